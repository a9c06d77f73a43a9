using FedMesh.Core.Identity;
using FedMesh.MirrorController.Hosting;

namespace FedMesh.MirrorController.Probing;

/// <summary>
/// The controller's own client identity for probes, <c>spiffe://td/cluster/c/ns/fedmesh-system/sa/controller</c>,
/// signed by the cluster issuer the controller holds (no CSR round trip: the key never leaves this process).
/// Re-issued at 70 % of its 24 h life; workers started later pick up the new one.
/// </summary>
internal sealed class ProbeIdentitySource(ControllerIdentity controller, IssuerSetup? issuer, TimeProvider time) : IDisposable
{
    public const string ServiceAccount = "controller";
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);
    private readonly Lock _lock = new();
    private WorkloadIdentity? _current;

    public WorkloadIdentity? Current()
    {
        if (issuer is null)
            return null;
        lock (_lock)
        {
            if (_current is null || time.GetUtcNow() >= _current.RenewAt)
            {
                var id = SpiffeId.Create(controller.TrustDomain, controller.Cluster, Core.Resources.WellKnown.SystemNamespace, ServiceAccount);
                _current = WorkloadIdentity.FromIssuer(issuer.Issuer, id, Lifetime, time);
            }
            return _current;
        }
    }

    public void Dispose()
    {
        lock (_lock)
            _current?.Dispose();
    }
}
