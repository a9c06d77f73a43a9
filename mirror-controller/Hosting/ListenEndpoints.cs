using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace FedMesh.MirrorController.Hosting;

/// <summary>The two listeners; after start-up their endpoints carry the ports actually bound (port 0 resolved).</summary>
internal sealed class ListenEndpoints
{
    public ListenOptions? Grpc { get; set; }
    public ListenOptions? Admin { get; set; }

    public int GrpcPort => (Grpc?.EndPoint as IPEndPoint)?.Port ?? 0;
    public int AdminPort => (Admin?.EndPoint as IPEndPoint)?.Port ?? 0;
}
