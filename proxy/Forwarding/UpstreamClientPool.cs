using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using FedMesh.Core.Identity;
using FedMesh.Proxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy.Forwarding;

/// <summary>
/// One pooled <see cref="HttpMessageInvoker"/> per upstream identity (a peer workload or a remote
/// gateway), whose TLS accepts only that identity. Clients no routing table references any more,
/// or built with a certificate since renewed, are retired: disposed after a grace period so
/// requests in flight on them can finish.
/// </summary>
internal sealed class UpstreamClientPool : IDisposable
{
    private readonly WorkloadIdentity _identity;
    private readonly TimeProvider _time;
    private readonly TimeSpan _grace;
    private readonly Dictionary<string, Client> _clients = new(StringComparer.Ordinal);
    private readonly Dictionary<HttpMessageInvoker, ITimer> _retired = new();
    private readonly Lock _lock = new();
    private bool _disposed;

    public UpstreamClientPool(WorkloadIdentity identity, TimeProvider time, TimeSpan? grace = null)
    {
        _identity = identity;
        _time = time;
        _grace = grace ?? ProxyDefaults.RetiredClientGrace;
    }

    /// <summary>Number of live (not retired) clients.</summary>
    public int Count { get { lock (_lock) return _clients.Count; } }

    /// <summary>The client for <paramref name="expectedIdentity"/>, created if missing or if our certificate was renewed.</summary>
    public HttpMessageInvoker Get(string expectedIdentity)
    {
        var certificate = _identity.Certificate;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_clients.TryGetValue(expectedIdentity, out var client))
            {
                if (ReferenceEquals(client.Certificate, certificate))
                    return client.Invoker;
                Retire(client.Invoker);
            }
            var invoker = Create(expectedIdentity);
            _clients[expectedIdentity] = new Client(invoker, certificate);
            return invoker;
        }
    }

    /// <summary>Retires every client whose identity is not in <paramref name="inUse"/>.</summary>
    public void RetainOnly(IReadOnlySet<string> inUse)
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            List<string>? unused = null;
            foreach (var (id, _) in _clients)
            {
                if (!inUse.Contains(id))
                    (unused ??= new()).Add(id);
            }
            if (unused is null)
                return;
            foreach (var id in unused)
            {
                Retire(_clients[id].Invoker);
                _clients.Remove(id);
            }
        }
    }

    private HttpMessageInvoker Create(string expectedIdentity)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = ProxyDefaults.ConnectTimeout,
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            SslOptions = _identity.ClientOptions(expectedIdentity),
            // The outbound span (when tracing) replaces the app's traceparent; otherwise it passes through.
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
        };
        return new HttpMessageInvoker(handler, disposeHandler: true);
    }

    // Called under _lock.
    private void Retire(HttpMessageInvoker invoker)
    {
        var timer = _time.CreateTimer(static state =>
        {
            var (pool, inv) = ((UpstreamClientPool, HttpMessageInvoker))state!;
            pool.DisposeRetired(inv);
        }, (this, invoker), _grace, Timeout.InfiniteTimeSpan);
        _retired[invoker] = timer;
    }

    private void DisposeRetired(HttpMessageInvoker invoker)
    {
        lock (_lock)
        {
            if (!_retired.Remove(invoker, out var timer))
                return;
            timer.Dispose();
        }
        invoker.Dispose();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
            foreach (var (invoker, timer) in _retired)
            {
                timer.Dispose();
                invoker.Dispose();
            }
            _retired.Clear();
            foreach (var (_, client) in _clients)
                client.Invoker.Dispose();
            _clients.Clear();
        }
    }

    private readonly record struct Client(HttpMessageInvoker Invoker, X509Certificate2 Certificate);
}
