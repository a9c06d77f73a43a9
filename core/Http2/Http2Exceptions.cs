namespace FedMesh.Core.Http2;

/// <summary>
/// A violation of RFC 9113 by the peer, with the error code to send it (or a send this side could not make, with the
/// code its stream was reset with). Catch the two kinds apart: a connection error
/// ends the connection with GOAWAY (§5.4.1), a stream error resets only its stream with RST_STREAM (§5.4.2).
/// </summary>
internal abstract class Http2Exception(Http2ErrorCode errorCode, string message) : Exception(message)
{
    public Http2ErrorCode ErrorCode { get; } = errorCode;
}

/// <summary>An error that leaves the whole connection unusable: send GOAWAY with <see cref="Http2Exception.ErrorCode"/> and close.</summary>
internal sealed class Http2ConnectionException(Http2ErrorCode errorCode, string message) : Http2Exception(errorCode, message);

/// <summary>An error confined to one stream: send RST_STREAM with <see cref="Http2Exception.ErrorCode"/> on <see cref="StreamId"/>; the connection goes on.</summary>
internal sealed class Http2StreamException(int streamId, Http2ErrorCode errorCode, string message) : Http2Exception(errorCode, message)
{
    public int StreamId { get; } = streamId;
}

/// <summary>
/// A header block this side was to send is larger than the peer's SETTINGS_MAX_HEADER_LIST_SIZE allows (RFC 9113
/// §6.5.2 sizing: names, values and 32 octets a field). Nothing of it was sent; its stream was reset with
/// <see cref="Http2Exception.ErrorCode"/> (INTERNAL_ERROR), or, a client's stream whose head it was, never opened
/// (<see cref="StreamId"/> 0).
/// </summary>
internal sealed class Http2HeaderListTooLargeException(int streamId, long size, long limit, string message)
    : Http2Exception(Http2ErrorCode.InternalError, message)
{
    public int StreamId { get; } = streamId;

    /// <summary>The header list's size, as SETTINGS_MAX_HEADER_LIST_SIZE counts it.</summary>
    public long Size { get; } = size;

    /// <summary>The peer's SETTINGS_MAX_HEADER_LIST_SIZE.</summary>
    public long Limit { get; } = limit;
}
