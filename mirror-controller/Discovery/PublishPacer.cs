namespace FedMesh.MirrorController.Discovery;

/// <summary>
/// Paces snapshot builds: the first change after a quiet interval is built at once, and changes that
/// follow within the interval wait for its end and go out together. A burst thus costs at most one
/// build (and push) per interval, while a lone change, the common case, is not delayed at all.
/// </summary>
internal sealed class PublishPacer(TimeSpan interval, TimeProvider time)
{
    private long? _lastBuild;

    /// <summary>How long to wait before the next build; zero when the last one is at least an interval old.</summary>
    public TimeSpan DelayBeforeBuild()
    {
        if (_lastBuild is not { } last || interval <= TimeSpan.Zero)
            return TimeSpan.Zero;
        var elapsed = time.GetElapsedTime(last);
        return elapsed >= interval ? TimeSpan.Zero : interval - elapsed;
    }

    /// <summary>Records that a build starts now.</summary>
    public void Building() => _lastBuild = time.GetTimestamp();
}
