namespace FedMesh.Core.Http2;

/// <summary>What this side of an <see cref="Http2Connection"/> allows its peer, and how long it waits for it.</summary>
internal sealed record Http2ConnectionOptions
{
    /// <summary>SETTINGS_MAX_CONCURRENT_STREAMS: the most streams the peer may have open at once.</summary>
    public int MaxConcurrentStreams { get; init; } = 1000;

    /// <summary>SETTINGS_INITIAL_WINDOW_SIZE: what the peer may send on a stream before this side reads it.</summary>
    public int StreamWindow { get; init; } = 1 << 20;

    /// <summary>The connection's receive window, raised from the RFC's 65,535 by a WINDOW_UPDATE at the start.</summary>
    public int ConnectionWindow { get; init; } = 16 << 20;

    /// <summary>SETTINGS_MAX_HEADER_LIST_SIZE: the most a header block may decode to (RFC 7541 §4.1 sizing).</summary>
    public int MaxHeaderListSize { get; init; } = 64 * 1024;

    /// <summary>
    /// How long the peer has to acknowledge this side's SETTINGS (RFC 9113 §6.5.3) before the connection ends with GOAWAY
    /// SETTINGS_TIMEOUT; counted from the start of <see cref="Http2Connection.RunAsync"/>. 10 s unless set;
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.
    /// </summary>
    public TimeSpan SettingsTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How many control frames this side owes the peer (PING and SETTINGS acknowledgements, RST_STREAM) may wait to be
    /// written while the peer does not read, before the connection ends with GOAWAY ENHANCE_YOUR_CALM (RFC 9113 §10.5):
    /// what a peer that floods PINGs or SETTINGS and never reads can make this side hold. WINDOW_UPDATEs waiting are
    /// merged, one a stream, and not counted. 1,000 unless set.
    /// </summary>
    public int MaxQueuedControlFrames { get; init; } = 1000;

    /// <summary>The clock the connection's timers run on (a test's own, say).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
