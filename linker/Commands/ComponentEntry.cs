using System.Runtime.InteropServices;

namespace FedMesh.Linker.Commands;

/// <summary>
/// <c>fedmesh component KIND ARGS</c>: runs one part of a cluster in this process. The local
/// federation's supervisor starts every part this way; container images use it too.
/// </summary>
internal static class ComponentEntry
{
    public static async Task<int> RunAsync(string kind, string[] args)
    {
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        switch (kind)
        {
            case "controller": return await FedMesh.MirrorController.MirrorControllerHost.RunAsync(args, stop.Token).ConfigureAwait(false);
            case "gateway": return await FedMesh.Gateway.GatewayHost.RunAsync(args, stop.Token).ConfigureAwait(false);
            case "proxy": return await FedMesh.Proxy.ProxyHost.RunAsync(args, stop.Token).ConfigureAwait(false);
            case "echo": return await FedMesh.Echo.EchoApp.RunAsync(args, stop.Token).ConfigureAwait(false);
            default:
                Console.Error.WriteLine($"error: unknown component '{kind}'; expected controller, gateway, proxy or echo");
                return ExitCodes.Usage;
        }
    }
}
