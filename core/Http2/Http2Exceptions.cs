namespace FedMesh.Core.Http2;

/// <summary>
/// A violation of RFC 9113 by the peer, with the error code to send it. Catch the two kinds apart: a connection error
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
