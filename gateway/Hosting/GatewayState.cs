using FedMesh.Core.Telemetry;
using FedMesh.Core.Identity;
using FedMesh.Gateway.Routing;

namespace FedMesh.Gateway.Hosting;

/// <summary>What the gateway currently serves with; each part is swapped atomically and read without locks.</summary>
internal sealed class GatewayState
{
    private WorkloadIdentity? _identity;
    private GatewayRoutes? _routes;
    private volatile bool _listenerBound;

    /// <summary>What forwarded requests saw, by service and calling cluster; reported to the controller.</summary>
    public RequestStatsRecorder Stats { get; } = new();

    /// <summary>Our certificate; null until the controller has signed one.</summary>
    public WorkloadIdentity? Identity
    {
        get => Volatile.Read(ref _identity);
        set => Volatile.Write(ref _identity, value);
    }

    /// <summary>The compiled last snapshot; null until the first arrives. Kept while discovery is down.</summary>
    public GatewayRoutes? Routes
    {
        get => Volatile.Read(ref _routes);
        set => Volatile.Write(ref _routes, value);
    }

    public bool ListenerBound
    {
        get => _listenerBound;
        set => _listenerBound = value;
    }

    public bool Ready => Identity is not null && Routes is not null && ListenerBound;

    /// <summary>What readiness still waits for, for people.</summary>
    public string WaitingFor()
    {
        var missing = new List<string>(3);
        if (!ListenerBound)
        {
            missing.Add("the mTLS listener to bind");
        }
        if (Identity is null)
        {
            missing.Add("a certificate from the controller");
        }
        if (Routes is null)
        {
            missing.Add("a first discovery snapshot");
        }
        return missing.Count == 0 ? "nothing" : string.Join(", ", missing);
    }
}
