using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace FedMesh.Core.Identity;

/// <summary>
/// One pooled <see cref="HttpMessageInvoker"/> per peer identity (a workload's proxy, a gateway), whose TLS
/// presents our certificate and accepts only that identity. Used by the proxy for its upstreams and by the
/// gateway for its cluster's workloads; each gives its own handler settings. A client is replaced when our
/// certificate is renewed, and retired when no routing table references its identity; retired clients are
/// disposed after a grace period, so requests in flight on them can finish.
/// </summary>
public sealed class PeerClientPool : IDisposable
{
    private readonly WorkloadIdentity _identity;
    private readonly TimeProvider _time;
    private readonly TimeSpan _grace;
    private readonly Func<SslClientAuthenticationOptions, string, HttpMessageInvoker> _createClient;
    private readonly Dictionary<string, Client> _clients = new(StringComparer.Ordinal);
    private readonly Dictionary<HttpMessageInvoker, ITimer> _retired = new();
    private readonly Lock _lock = new();
    private bool _disposed;

    /// <param name="createClient">
    /// Builds one peer's client from the TLS options that pin its identity and that identity, which names the client's
    /// TLS sessions (see <see cref="PeerHandler.CreateClient"/>).
    /// </param>
    public PeerClientPool(WorkloadIdentity identity, TimeProvider time, TimeSpan grace, Func<SslClientAuthenticationOptions, string, HttpMessageInvoker> createClient)
    {
        _identity = identity;
        _time = time;
        _grace = grace;
        _createClient = createClient;
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
            var invoker = _createClient(_identity.ClientOptions(expectedIdentity), expectedIdentity);
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

    // Called under _lock.
    private void Retire(HttpMessageInvoker invoker)
    {
        var timer = _time.CreateTimer(static state =>
        {
            var (pool, retired) = ((PeerClientPool, HttpMessageInvoker))state!;
            pool.DisposeRetired(retired);
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
