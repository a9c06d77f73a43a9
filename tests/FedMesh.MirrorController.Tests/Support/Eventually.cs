using System.Diagnostics;

namespace FedMesh.MirrorController.Tests.Support;

/// <summary>Polls a condition until it holds or a deadline passes; every wait in these tests is bounded.</summary>
internal static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    public static async Task<T> ValueAsync<T>(Func<Task<T?>> probe, Func<T?, bool> done, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        T? last = default;
        while (deadline.Elapsed < (timeout ?? DefaultTimeout))
        {
            last = await probe();
            if (done(last))
                return last!;
            await Task.Delay(20);
        }
        throw new TimeoutException($"timed out after {(timeout ?? DefaultTimeout).TotalSeconds:F0}s waiting for {what}; last value: {last}");
    }

    public static Task TrueAsync(Func<Task<bool>> probe, string what, TimeSpan? timeout = null) =>
        ValueAsync(async () => (bool?)await probe(), v => v == true, what, timeout);
}
