namespace FedMesh.Linker.Local;

/// <summary>Asks parts whether they are ready (their /ready or /healthz answering 200).</summary>
internal static class Readiness
{
    private static readonly HttpClient Client = new(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.FromSeconds(5) })
    {
        Timeout = TimeSpan.FromSeconds(1),
    };

    public static async Task<bool> IsReadyAsync(string url, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await Client.GetAsync(url, cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Readiness of every part, asked in parallel.</summary>
    public static async Task<bool[]> CheckAllAsync(IReadOnlyList<string> urls, CancellationToken cancellationToken)
    {
        var tasks = new Task<bool>[urls.Count];
        for (var i = 0; i < urls.Count; i++) tasks[i] = IsReadyAsync(urls[i], cancellationToken);
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }
}
