using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Proto = FedMesh.Core.Discovery.Protocol;

namespace FedMesh.MirrorController.Discovery;

/// <summary>
/// <c>Discovery.Watch</c>: the current snapshot at once (as soon as there is one), then every new one.
/// Streams end when the caller leaves or the controller stops.
/// </summary>
internal sealed class DiscoveryService(SnapshotPublisher publisher, Hosting.ControllerIdentity identity, IHostApplicationLifetime lifetime)
    : Proto.Discovery.DiscoveryBase
{
    public override async Task Watch(Proto.Node request, IServerStreamWriter<Proto.Snapshot> responseStream, ServerCallContext context)
    {
        if (request.Cluster.Length > 0 && !string.Equals(request.Cluster, identity.Cluster, StringComparison.Ordinal))
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"node '{request.Id}' belongs to cluster '{request.Cluster}' but this controller serves cluster '{identity.Cluster}'; point it at its own cluster's controller"));

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        using var subscription = publisher.Subscribe();
        try
        {
            await foreach (var snapshot in subscription.Reader.ReadAllAsync(stop.Token).ConfigureAwait(false))
                await responseStream.WriteAsync(snapshot, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
