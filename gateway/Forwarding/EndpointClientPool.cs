using System.Diagnostics;
using System.Net;
using Yarp.ReverseProxy.Forwarder;
using System.Security.Cryptography.X509Certificates;
using FedMesh.Core.Identity;

namespace FedMesh.Gateway.Forwarding;

/// <summary>
/// One pooled <see cref="HttpMessageInvoker"/> per destination identity, presenting the gateway's certificate and
/// accepting only that identity. A client is replaced when our certificate is renewed, and retired when no snapshot
/// references its identity; retired clients are disposed after a grace period so in-flight requests can finish.
/// </summary>
internal sealed class EndpointClientPool(WorkloadIdentity identity, TimeProvider time, TimeSpan grace) : IDisposable
{
    private readonly Dictionary<string, PooledClient> _clients = new(StringComparer.Ordinal);
    private readonly HashSet<HttpMessageInvoker> _retiring = [];
    private readonly Lock _lock = new();
    private bool _disposed;

    public int Count
    {
        get { lock (_lock) { return _clients.Count; } }
    }

    /// <summary>The client for <paramref name="expectedIdentity"/>, built with our current certificate.</summary>
    public HttpMessageInvoker Get(string expectedIdentity)
    {
        var certificate = identity.Certificate;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_clients.TryGetValue(expectedIdentity, out var pooled))
            {
                if (ReferenceEquals(pooled.Certificate, certificate))
                {
                    return pooled.Invoker;
                }
                RetireLocked(pooled.Invoker);
            }
            var invoker = new HttpMessageInvoker(CreateHandler(expectedIdentity), disposeHandler: true);
            _clients[expectedIdentity] = new PooledClient(invoker, certificate);
            return invoker;
        }
    }

    /// <summary>Retires the clients of identities not in <paramref name="inUse"/>.</summary>
    public void RetainOnly(HashSet<string> inUse)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            List<string>? stale = null;
            foreach (var entry in _clients)
            {
                if (!inUse.Contains(entry.Key))
                {
                    (stale ??= []).Add(entry.Key);
                }
            }
            foreach (var key in stale ?? [])
            {
                RetireLocked(_clients[key].Invoker);
                _clients.Remove(key);
            }
        }
    }

    private SocketsHttpHandler CreateHandler(string expectedIdentity) => new()
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        EnableMultipleHttp2Connections = true,
        ConnectTimeout = GatewayDefaults.ConnectTimeout,
        PooledConnectionIdleTimeout = GatewayDefaults.PooledConnectionIdleTimeout,
        KeepAlivePingDelay = GatewayDefaults.KeepAlivePingDelay,
        KeepAlivePingTimeout = GatewayDefaults.KeepAlivePingTimeout,
        KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
        // The gateway's span (when tracing) replaces the caller's traceparent; otherwise it passes through.
        ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
        SslOptions = identity.ClientOptions(expectedIdentity),
    };

    private void RetireLocked(HttpMessageInvoker invoker)
    {
        _retiring.Add(invoker);
        _ = DisposeLaterAsync(invoker);
    }

    private async Task DisposeLaterAsync(HttpMessageInvoker invoker)
    {
        try
        {
            await Task.Delay(grace, time).ConfigureAwait(false);
        }
        finally
        {
            bool owned;
            lock (_lock)
            {
                owned = _retiring.Remove(invoker);
            }
            if (owned)
            {
                invoker.Dispose();
            }
        }
    }

    public void Dispose()
    {
        List<HttpMessageInvoker> all;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            all = [.. _retiring];
            foreach (var entry in _clients)
            {
                all.Add(entry.Value.Invoker);
            }
            _retiring.Clear();
            _clients.Clear();
        }
        foreach (var invoker in all)
        {
            invoker.Dispose();
        }
    }

    private readonly record struct PooledClient(HttpMessageInvoker Invoker, X509Certificate2 Certificate);
}
