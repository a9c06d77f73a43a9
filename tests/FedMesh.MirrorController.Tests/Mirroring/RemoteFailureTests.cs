using FedMesh.Core.Store;
using FedMesh.MirrorController.Mirroring;
using FedMesh.MirrorController.Targets;
using FedMesh.MirrorController.Tests.Support;

namespace FedMesh.MirrorController.Tests.Mirroring;

public sealed class RemoteFailureTests
{
    [Fact]
    public void From_TargetAnswered401_IsUnauthorizedNamingTheCredentialsAndCluster()
    {
        var link = Objects.Link("west");
        link.Spec.CredentialsSecret = "fedmesh-link-west";

        var failure = RemoteFailure.From(new StoreForbiddenException("watching services in cluster 'west': the API server did not accept the credentials", 401), link);

        Assert.Equal(RemoteFailure.Unauthorized, failure.Reason);
        Assert.StartsWith("cluster 'west' does not accept the credentials in Secret fedmesh-system/fedmesh-link-west for reading services: ", failure.Message);
    }

    [Fact]
    public void From_CredentialsSecretUnreadableHere_StaysTargetUnreachable()
    {
        // A refused read of the Secret in this cluster is not the target refusing the link.
        var inner = new StoreForbiddenException("reading Secret fedmesh-system/fedmesh-link-west in cluster 'east' is forbidden");

        var failure = RemoteFailure.From(new TargetUnreachableException(inner.Message, inner), Objects.Link("west"));

        Assert.Equal(RemoteFailure.TargetUnreachable, failure.Reason);
        Assert.Equal($"cannot read the services of cluster 'west': {inner.Message}", failure.Message);
    }
}
