namespace FedMesh.MirrorController.Tests.Support;

/// <summary>A wall clock that moves only when a test sets <see cref="Now"/>.</summary>
internal sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
