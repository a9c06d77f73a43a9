using FedMesh.Core.Identity;
using FedMesh.Core.Telemetry;
using FedMesh.Proxy.Forwarding;
using FedMesh.Proxy.Resilience;
using Microsoft.Extensions.Logging;
using Proto = FedMesh.Core.Discovery.Protocol;

namespace FedMesh.Proxy.Routing;

/// <summary>
/// Holds the current routing table. Readers take <see cref="Current"/> with one volatile read and
/// never lock; each snapshot (or a renewed certificate) compiles a new table that is swapped in
/// atomically, after which upstream clients no table references are retired.
/// </summary>
internal sealed class RoutingState : IDisposable
{
    private readonly RoutingTableBuilder _builder;
    private readonly PeerClientPool _clients;
    private readonly WorkloadIdentity _identity;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _buildLock = new();
    private RoutingTable _current = RoutingTable.Empty;
    private AppliedSnapshot? _applied;
    private object? _builtWithCertificate;

    public RoutingState(string proxyNamespace, WorkloadIdentity identity, PeerClientPool clients, RequestStatsRecorder stats, TimeProvider time, ILogger logger)
        : this(proxyNamespace, identity, clients, stats, new EndpointStateRegistry(new AccrualSettings(new ResilienceOptions(), time, Random.Shared), time), Random.Shared, time, logger)
    {
    }

    public RoutingState(string proxyNamespace, WorkloadIdentity identity, PeerClientPool clients, RequestStatsRecorder stats,
        EndpointStateRegistry states, Random random, TimeProvider time, ILogger logger)
    {
        _identity = identity;
        _clients = clients;
        _logger = logger;
        _time = time;
        _builder = new RoutingTableBuilder(proxyNamespace, identity.Id.ToString(), clients, stats, states, random, time, logger);
        // Clients keep the TLS options (and certificate) they were built with: rebuild them on renewal.
        _identity.Renewed += OnRenewed;
    }

    public RoutingTable Current => Volatile.Read(ref _current);

    /// <summary>The snapshot the current table was compiled from (null before the first).</summary>
    public Proto.Snapshot? Snapshot => Volatile.Read(ref _applied)?.Snapshot;

    /// <summary>The snapshot the current table was compiled from and when it was swapped in (null before the first).</summary>
    public AppliedSnapshot? Applied => Volatile.Read(ref _applied);

    /// <summary>The route for a request's authority in the current table, or null.</summary>
    public ServiceRoute? CurrentRouteOf(string authority) => Current.TryFind(authority, out var route) ? route : null;

    /// <summary>True once a snapshot has been compiled.</summary>
    public bool HasSnapshot => Volatile.Read(ref _applied) is not null;

    /// <summary>Compiles <paramref name="snapshot"/> and swaps it in. A snapshot that fails to compile changes nothing.</summary>
    public void Apply(Proto.Snapshot snapshot)
    {
        lock (_buildLock)
        {
            RoutingTable table;
            var certificate = _identity.Certificate;
            try
            {
                table = _builder.Build(snapshot);
            }
            catch (Exception e)
            {
                ProxyLog.SnapshotRejected(_logger, snapshot.Version, e);
                return;
            }
            Volatile.Write(ref _current, table);
            Volatile.Write(ref _applied, new AppliedSnapshot(snapshot, _time.GetUtcNow()));
            _builtWithCertificate = certificate;
            _clients.RetainOnly(table.Identities);
            ProxyLog.SnapshotApplied(_logger, snapshot.Version, table.KnownServices);
        }
    }

    /// <summary>Applies <paramref name="snapshot"/> only if no snapshot was applied yet (never goes back to an older one).</summary>
    public void ApplyIfFirst(Proto.Snapshot snapshot)
    {
        lock (_buildLock)
        {
            if (_applied is null)
                Apply(snapshot);
        }
    }

    private void OnRenewed(WorkloadIdentity _) => RebuildIfCertificateRenewed();

    private void RebuildIfCertificateRenewed()
    {
        Proto.Snapshot? snapshot;
        lock (_buildLock)
        {
            snapshot = _applied?.Snapshot;
            if (snapshot is null || ReferenceEquals(_builtWithCertificate, _identity.Certificate))
                return;
        }
        Apply(snapshot);
    }

    public void Dispose() => _identity.Renewed -= OnRenewed;
}

/// <summary>A snapshot and the moment its routing table was swapped in.</summary>
internal sealed record AppliedSnapshot(Proto.Snapshot Snapshot, DateTimeOffset AppliedAt);
