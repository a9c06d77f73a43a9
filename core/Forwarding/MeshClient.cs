using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Security;
using FedMesh.Core.Http2;
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
    private readonly ConcurrentDictionary<string, Http2UpstreamPool> _http2Pools = new(StringComparer.Ordinal);
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

    /// <summary>The HTTP/2 relay's connections to <paramref name="destinationPrefix"/> (<c>http(s)://host:port</c>).</summary>
    internal Http2UpstreamPool Http2PoolFor(string destinationPrefix)
    {
        _sweeps.Demand();
        if (_http2Pools.TryGetValue(destinationPrefix, out var pool))
            return pool;
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _http2Pools.GetOrAdd(destinationPrefix, static (prefix, client) =>
        {
            var (host, port, tls) = client.Destination(prefix, SslApplicationProtocol.Http2);
            return new Http2UpstreamPool(host, port, tls, client.ConnectTimeout, client.IdleTimeout);
        }, this);
    }

    private Http11Pool CreatePool(string prefix)
    {
        var (host, port, tls) = Destination(prefix, SslApplicationProtocol.Http11);
        return new Http11Pool(host, port, tls, ConnectTimeout, IdleTimeout, _sweeps);
    }

    /// <summary>
    /// Where a prefix points, and the TLS options for it: a copy per upstream address whose ALPN offers only
    /// <paramref name="protocol"/>, and whose TargetHost is the address's session name (UpstreamTlsName), which also goes
    /// out as SNI.
    /// </summary>
    private (string Host, int Port, SslClientAuthenticationOptions? Tls) Destination(string prefix, SslApplicationProtocol protocol)
    {
        var uri = new Uri(prefix, UriKind.Absolute);
        if (uri.Scheme != Uri.UriSchemeHttps)
            return (uri.IdnHost, uri.Port, null);
        if (_tls is null)
            throw new InvalidOperationException($"destination {prefix} needs TLS, and this client has no TLS options");
        var copy = ClientTlsOptions.Copy(_tls);
        copy.ApplicationProtocols = [protocol];
        copy.TargetHost = _tls.TargetHost ?? UpstreamTlsName.For(uri.IdnHost, uri.HostNameType == UriHostNameType.Dns, uri.Port, _expectedIdentity);
        return (uri.IdnHost, uri.Port, copy);
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
        foreach (var (_, pool) in _http2Pools)
        {
            if (pool.Sweep() is { } due && (next is null || due < next))
                next = due;
        }
        return next;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _sweeps.Dispose();
            foreach (var (_, pool) in _pools)
                pool.Dispose();
            foreach (var (_, pool) in _http2Pools)
                pool.Dispose();
        }
        base.Dispose(disposing);
    }
}
