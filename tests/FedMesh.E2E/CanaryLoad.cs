using System.Net;
using System.Text.Json;

namespace FedMesh.E2E;

/// <summary>
/// Requests to a service through a proxy's outbound listener, as an application would send them,
/// counted by the cluster whose echo answered. Runs in the background until disposed.
/// </summary>
internal sealed class CanaryLoad : IAsyncDisposable
{
    private readonly HttpClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _loops;
    private readonly Dictionary<string, int> _byCluster = new();
    private int _failures;

    public CanaryLoad(string outbound, string url, int concurrency = 2)
    {
        _client = NewClient(outbound);
        _loops = Enumerable.Range(0, concurrency).Select(_ => Task.Run(() => LoopAsync(url))).ToArray();
    }

    public static HttpClient NewClient(string outbound) =>
        new(new SocketsHttpHandler { Proxy = new WebProxy("http://" + outbound), UseProxy = true }) { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>Sends <paramref name="count"/> requests one after another and counts who answered.</summary>
    public static async Task<(Dictionary<string, int> ByCluster, int Failures)> CountAsync(string outbound, string url, int count)
    {
        using var client = NewClient(outbound);
        var byCluster = new Dictionary<string, int>();
        var failures = 0;
        for (var i = 0; i < count; i++)
        {
            var cluster = await SendAsync(client, url, CancellationToken.None);
            if (cluster is null) failures++;
            else byCluster[cluster] = byCluster.GetValueOrDefault(cluster) + 1;
        }
        return (byCluster, failures);
    }

    public override string ToString()
    {
        lock (_byCluster) return string.Join(", ", _byCluster.Select(kv => $"{kv.Key}={kv.Value}")) + $", failures={_failures}";
    }

    private async Task LoopAsync(string url)
    {
        while (!_stop.IsCancellationRequested)
        {
            var cluster = await SendAsync(_client, url, _stop.Token);
            if (cluster is null) Interlocked.Increment(ref _failures);
            else lock (_byCluster) _byCluster[cluster] = _byCluster.GetValueOrDefault(cluster) + 1;
        }
    }

    private static async Task<string?> SendAsync(HttpClient client, string url, CancellationToken ct)
    {
        try
        {
            using var response = await client.GetAsync(url, ct);
            if (!response.IsSuccessStatusCode) return null;
            var body = await response.Content.ReadAsStringAsync(ct);
            return JsonDocument.Parse(body).RootElement.GetProperty("cluster").GetString();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            if (ct.IsCancellationRequested) return null;
            await Task.Delay(20, CancellationToken.None);
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await Task.WhenAll(_loops);
        _client.Dispose();
        _stop.Dispose();
    }
}
