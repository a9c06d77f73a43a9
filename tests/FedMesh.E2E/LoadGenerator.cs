using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace FedMesh.E2E;

/// <summary>Steady GET load through a proxy's outbound listener; records every answer with its time and cluster.</summary>
internal sealed class LoadGenerator : IAsyncDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public LoadGenerator(string outbound, string url, int perSecond)
    {
        _http = new HttpClient(new SocketsHttpHandler { Proxy = new WebProxy($"http://{outbound}"), UseProxy = true, MaxConnectionsPerServer = 64 })
        { Timeout = Timeout.InfiniteTimeSpan }; // each request has its own, for the head and the body
        _run = RunAsync(url, perSecond);
    }

    public ConcurrentQueue<Answer> Answers { get; } = new();

    public TimeSpan Now => _clock.Elapsed;

    /// <param name="Took">From sending to the whole answer read.</param>
    /// <param name="HeadAt">When the answer's head came (on <see cref="Now"/>'s clock); null if none did.</param>
    public sealed record Answer(TimeSpan At, int Status, string? Cluster, string? Error, TimeSpan Took = default, TimeSpan? HeadAt = null);

    private async Task RunAsync(string url, int perSecond)
    {
        var interval = TimeSpan.FromSeconds(1.0 / perSecond);
        var inFlight = new List<Task>();
        var next = _clock.Elapsed;
        while (!_stop.IsCancellationRequested)
        {
            inFlight.Add(OneAsync(url));
            next += interval;
            var wait = next - _clock.Elapsed;
            if (wait > TimeSpan.Zero)
                try { await Task.Delay(wait, _stop.Token); } catch (OperationCanceledException) { break; }
            inFlight.RemoveAll(t => t.IsCompleted);
        }
        await Task.WhenAll(inFlight);
    }

    private async Task OneAsync(string url)
    {
        var at = _clock.Elapsed;
        TimeSpan? headAt = null;
        string? cluster = null;
        using var timeout = new CancellationTokenSource(RequestTimeout); // the head and the body
        try
        {
            // The head first, then the body: a body cut after its head is told apart from an answer that never began.
            using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            headAt = _clock.Elapsed;
            cluster = response.Headers.TryGetValues("x-fedmesh-upstream-cluster", out var v) ? v.First() : null;
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            // A failed answer keeps what the mesh said (which hop, which endpoint, why), for the test's message.
            var said = response.IsSuccessStatusCode ? null : body.Length > 400 ? body[..400] : body.TrimEnd();
            Answers.Enqueue(new Answer(at, (int)response.StatusCode, cluster, said, _clock.Elapsed - at, headAt));
        }
        catch (Exception e)
        {
            Answers.Enqueue(new Answer(at, 0, cluster, e.Message, _clock.Elapsed - at, headAt));
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _run;
        _http.Dispose();
    }
}
