using System.Net;
using System.Net.Sockets;

namespace FedMesh.Tests.Shared;

/// <summary>Ports on 127.0.0.1 for tests that must name one before anything listens on it.</summary>
internal static class LoopbackPort
{
    /// <summary>A port the kernel just handed out and took back: free until something binds it.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
