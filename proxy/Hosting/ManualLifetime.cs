using Microsoft.Extensions.Hosting;

namespace FedMesh.Proxy.Hosting;

/// <summary>
/// A host lifetime that ignores console signals: the proxy's three listeners are stopped by
/// <see cref="ProxyRuntime"/> in order (deregister first), not each on its own.
/// </summary>
internal sealed class ManualLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
