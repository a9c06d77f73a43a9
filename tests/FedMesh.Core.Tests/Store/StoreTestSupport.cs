using System.Threading.Channels;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;

namespace FedMesh.Core.Tests.Store;

/// <summary>A temp store directory removed after the test.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fedmesh-store-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

internal static class Objects
{
    public static Service Service(string name, string? ns = null, int port = 8080) => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = ns },
        Spec = new ServiceSpec { Ports = [new ServicePort { Port = port }] },
    };
}

/// <summary>Runs a watch in the background; every wait is bounded by a deadline.</summary>
internal sealed class WatchProbe<T> : IAsyncDisposable where T : Resource
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly Channel<WatchEvent<T>> _events = Channel.CreateUnbounded<WatchEvent<T>>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;

    public WatchProbe(IClusterStore store, string? @namespace = null)
    {
        _pump = Task.Run(async () =>
        {
            await foreach (var e in store.WatchAsync<T>(@namespace, _stop.Token))
                _events.Writer.TryWrite(e);
            _events.Writer.TryComplete();
        });
    }

    public Task Completion => _pump;

    public async Task<WatchEvent<T>> NextAsync(TimeSpan? deadline = null)
    {
        using var timeout = new CancellationTokenSource(deadline ?? Deadline);
        try
        {
            return await _events.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no watch event within {(deadline ?? Deadline).TotalSeconds} s");
        }
    }

    /// <summary>Events read until <see cref="WatchEventType.Synced"/>.</summary>
    public async Task<List<WatchEvent<T>>> UntilSyncedAsync()
    {
        var list = new List<WatchEvent<T>>();
        for (var e = await NextAsync(); e.Type != WatchEventType.Synced; e = await NextAsync())
            list.Add(e);
        return list;
    }

    public bool TryRead(out WatchEvent<T>? e) => _events.Reader.TryRead(out e);

    public void Stop() => _stop.Cancel();

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try { await _pump.WaitAsync(Deadline); } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
