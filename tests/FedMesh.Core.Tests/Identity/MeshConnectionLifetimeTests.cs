using System.Diagnostics;
using FedMesh.Core.Common;
using FedMesh.Core.Identity;

namespace FedMesh.Core.Tests.Identity;

/// <summary>How long idle connections between mesh parts live, on the calling and the listening side.</summary>
public sealed class MeshConnectionLifetimeTests
{
    [Fact]
    public void MeshIdleTimeout_ClientKeepsIdleConnectionsThatLongAndListenersLonger()
    {
        using var client = PeerHandler.CreateClient(null, TimeSpan.FromSeconds(2), PeerHandler.MeshIdleTimeout,
            DistributedContextPropagator.CreateNoOutputPropagator(), TimeProvider.System);

        Assert.Equal(PeerHandler.MeshIdleTimeout, client.IdleTimeout);
        // A lull of a minute or two must not empty the pools (every reconnection is an mTLS handshake) ...
        Assert.True(PeerHandler.MeshIdleTimeout >= TimeSpan.FromMinutes(2), $"idle timeout {PeerHandler.MeshIdleTimeout}");
        // ... and the listener must outlive the caller's pool, so the caller closes first and never sends on a
        // connection the listener is closing.
        Assert.True(DataPlaneKestrel.MeshListenerKeepAlive > PeerHandler.MeshIdleTimeout,
            $"listener keep-alive {DataPlaneKestrel.MeshListenerKeepAlive} is not longer than the pools' idle timeout {PeerHandler.MeshIdleTimeout}");
    }
}
