namespace FedMesh.Core.Http2;

/// <summary>
/// The peer's frames on streams that are no longer open (RFC 9113 §5.1 "closed"). Frames that crossed a RST_STREAM this
/// side sent are ignored (§5.4.2: the peer could not know), and so are those on our streams its GOAWAY refused; a DATA
/// or HEADERS frame on a stream that closed otherwise (both sides ended it, or the peer reset it) is answered with a
/// stream error STREAM_CLOSED (§6.1, §5.1). Dropped data's length goes back to the connection's window either way.
/// </summary>
internal sealed partial class Http2Connection
{
    /// <summary>
    /// How many of the streams this side reset lately are remembered. A frame for an older one that comes later still
    /// gets its STREAM_CLOSED answer, which §5.1 allows ("MAY choose to limit the period"), and is remembered again.
    /// </summary>
    private const int RememberedResets = 256;

    // Guarded by _state: a ring of stream ids, made at the first reset.
    private int[]? _resetLately;
    private int _resetNext;

    /// <summary>Under the state lock: this side sent RST_STREAM on <paramref name="id"/>.</summary>
    private void RememberReset(int id)
    {
        if (id == 0)
            return;
        _resetLately ??= new int[RememberedResets];
        _resetLately[_resetNext] = id;
        _resetNext = (_resetNext + 1) % RememberedResets;
    }

    /// <summary>
    /// Under the state lock, for a stream that is neither open nor idle: whether the peer's frame on it may have crossed
    /// this side's ending of it (our RST_STREAM, or its GOAWAY for a stream of ours it never took), and so is ignored.
    /// </summary>
    private bool CrossedOurEnding(int id) =>
        (_resetLately is not null && Array.IndexOf(_resetLately, id) >= 0) || ((id % 2 == 1) != _isServer && id > _goAwayLastStream);

    /// <summary>The stream error for a frame on a stream that has closed.</summary>
    private static Http2StreamException ClosedStream(int id, string frame) =>
        new(id, Http2ErrorCode.StreamClosed, $"{frame} on stream {id}, which has closed: both sides ended it, or the peer reset it (RFC 9113 §5.1)");
}
