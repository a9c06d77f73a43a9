using Microsoft.Extensions.Hosting;

namespace FedMesh.Gateway.Hosting;

/// <summary>The host's process signals belong to the <c>fedmesh</c> CLI, which stops the gateway through its token.</summary>
internal sealed class NoSignalLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
