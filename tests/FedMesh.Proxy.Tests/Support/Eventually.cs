namespace FedMesh.Proxy.Tests.Support;

/// <summary>Polls a condition until it holds or a deadline passes; never a bare sleep.</summary>
internal static class Eventually
{
    public static async Task<T> ReturnsAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        var last = default(T);
        Exception? lastError = null;
        while (DateTimeOffset.UtcNow < deadline)
        {
            try
            {
                last = await probe();
                if (done(last))
                    return last;
            }
            catch (Exception e)
            {
                lastError = e;
            }
            await Task.Delay(25);
        }
        throw new TimeoutException($"timed out waiting for {what}; last value: {last}; last error: {lastError?.Message}");
    }
}
