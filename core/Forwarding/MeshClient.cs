using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Security;
using FedMesh.Core.Identity;

namespace FedMesh.Core.Forwarding;

/// <summary>
/// A pooled client to mesh peers (or to the app) that <see cref="MeshForwarder"/> can use two ways: its own
/// HTTP/1.1 connection pools, one per upstream address, for plain HTTP/1.1 requests; and, as the
/// <see cref="HttpMessageInvoker"/> it is, the <see cref="SocketsHttpHandler"/> it wraps, which YARP uses for
/// everything else (HTTP/2 and gRPC, upgrades, <c>Expect: 100-continue</c>). Both use the same TLS options.
/// </summary>
public sealed class MeshClient : HttpMessageInvoker
{
    private readonly ConcurrentDictionary<string, Http11Pool> _pools = new(StringComparer.Ordinal);
    private readonly SslClientAuthenticationOptions? _tls;
    private readonly string? _expectedIdentity;
    private readonly SweepTimer _sweeps;
    private volatile bool _disposed;

    /// <param name="handler">Carries what the direct path does not; disposed with the client.</param>
    /// <param name="tls">TLS for <c>https://</c> destinations (ALPN is set to HTTP/1.1 on the direct path's copy); null for plain HTTP only.</param>
    /// <param name="propagator">Writes the trace headers of the current activity, when there is one.</param>
    /// <param name="expectedIdentity">
    /// The identity <paramref name="tls"/> pins, if any: with the upstream's address it names the direct path's TLS
    /// sessions (<see cref="UpstreamTlsName"/>), so a session resumes only where it came from.
    /// </param>
    public MeshClient(SocketsHttpHandler handler, SslClientAuthenticationOptions? tls, DistributedContextPropagator propagator, TimeProvider time,
        string? expectedIdentity = null)
        : base(handler, disposeHandler: true)
    {
        ConnectTimeout = handler.ConnectTimeout;
        IdleTimeout = handler.PooledConnectionIdleTimeout;
        Propagator = propagator;
        _tls = tls;
        _expectedIdentity = expectedIdentity;
        _sweeps = new SweepTimer(time, Sweep);
    }

    public TimeSpan ConnectTimeout { get; }

    public TimeSpan IdleTimeout { get; }

    public DistributedContextPropagator Propagator { get; }

    /// <summary>Open direct-path connections over every upstream address.</summary>
    public int OpenConnections => _pools.Values.Sum(p => p.Count);

    /// <summary>Direct-path requests waiting for a connection, over every upstream address.</summary>
    internal int WaitingRequests => _pools.Values.Sum(p => p.Waiting);

    /// <summary>The direct path's pool for <paramref name="destinationPrefix"/> (<c>http(s)://host:port</c>).</summary>
    internal Http11Pool PoolFor(string destinationPrefix)
    {
        if (_pools.TryGetValue(destinationPrefix, out var pool))
            return pool;
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _pools.GetOrAdd(destinationPrefix, static (prefix, client) => client.CreatePool(prefix), this);
    }

    private Http11Pool CreatePool(string prefix)
    {
        var uri = new Uri(prefix, UriKind.Absolute);
        var secure = uri.Scheme == Uri.UriSchemeHttps;
        if (secure && _tls is null)
            throw new InvalidOperationException($"destination {prefix} needs TLS, and this client has no TLS options");
        var name = secure ? UpstreamTlsName.For(uri.IdnHost, uri.HostNameType == UriHostNameType.Dns, uri.Port, _expectedIdentity) : null;
        return new Http11Pool(uri.IdnHost, uri.Port, secure ? Http11Tls(_tls!, name) : null, ConnectTimeout, IdleTimeout, _sweeps);
    }

    /// <summary>Sweeps every pool; says when the next sweep is needed (<see cref="SweepTimer"/>).</summary>
    internal TimeSpan? Sweep()
    {
        TimeSpan? next = null;
        foreach (var (_, pool) in _pools)
        {
            if (pool.Sweep() is { } due && (next is null || due < next))
                next = due;
        }
        return next;
    }

    // A copy per upstream address: ALPN says HTTP/1.1, and TargetHost is the address's session name (UpstreamTlsName),
    // which also goes out as SNI.
    private static SslClientAuthenticationOptions Http11Tls(SslClientAuthenticationOptions tls, string? name)
    {
        var copy = ClientTlsOptions.Copy(tls);
        copy.ApplicationProtocols = [SslApplicationProtocol.Http11];
        copy.TargetHost = tls.TargetHost ?? name;
        return copy;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _sweeps.Dispose();
            foreach (var (_, pool) in _pools)
                pool.Dispose();
        }
        base.Dispose(disposing);
    }
}
