using System.Buffers;

namespace FedMesh.Core.Http2;

/// <summary>
/// What one stream's owner hears from the connection, on the connection's read loop: each must return quickly, and
/// the fields and data are good only for the call (copy what is kept; the fields' list may be added to, for the call).
/// </summary>
internal interface IHttp2StreamHandler
{
    /// <summary>A header block: the request or response head (a 1xx response before the final one), or trailers.</summary>
    void OnHeaders(Http2Stream stream, Http2HeaderList fields, bool endStream);

    /// <summary>
    /// Data from the peer. Give its length back with <see cref="Http2Stream.Consumed"/> once it is passed on: that
    /// opens the peer's window again, so a slow reader holds its sender back instead of piling data up here.
    /// </summary>
    void OnData(Http2Stream stream, ReadOnlySequence<byte> data, bool endStream);

    /// <summary>
    /// The stream ended without finishing: reset by the peer (<paramref name="code"/>), refused by its GOAWAY
    /// (REFUSED_STREAM: it never reached the application, so it can be sent again elsewhere), or the connection ended
    /// (<paramref name="error"/> says why).
    /// </summary>
    void OnReset(Http2Stream stream, Http2ErrorCode code, Exception? error);
}

/// <summary>
/// One stream of an <see cref="Http2Connection"/>. A client's stream gets its id when its first header block goes out
/// (ids must rise in the order streams open on the wire); a server's arrives with one.
/// </summary>
internal sealed class Http2Stream
{
    private readonly Http2Connection _connection;

    internal Http2Stream(Http2Connection connection, IHttp2StreamHandler handler, int id)
    {
        _connection = connection;
        Handler = handler;
        Id = id;
    }

    public int Id { get; internal set; }

    public Http2Connection Connection => _connection;

    /// <summary>The owner's state for this stream (the relay's other half, say).</summary>
    public object? State { get; set; }

    internal IHttp2StreamHandler Handler { get; set; }

    // Guarded by the connection's state lock.
    internal long SendWindow;
    internal long ReceiveWindow;
    internal int ReceiveUncredited;

    /// <summary>
    /// Data handed to the owner (OnData) that it has not given back with <see cref="Consumed"/>: the connection's window
    /// takes it back if the stream is reset, so that an owner that fails or drops data never shrinks it for good.
    /// </summary>
    internal int Unreturned;
    internal bool LocalClosed;   // END_STREAM or RST_STREAM sent
    internal bool RemoteClosed;  // END_STREAM or RST_STREAM received
    internal bool FinalHeaders;  // the request, or a final (non-1xx) response, has arrived: another block is trailers

    // The read loop's: the peer's content-length while its data is checked against it (-1: none, or not checked), and
    // the data so far (RFC 9113 §8.1.1).
    internal long ContentLength = -1;
    internal long DataReceived;

    /// <summary>This side's request was HEAD or CONNECT: the response's content-length does not size its data. Set when the request goes out.</summary>
    internal bool ResponseUnsized;

    /// <summary>Sends a header block: the head, or trailers with <paramref name="endStream"/>.</summary>
    public ValueTask SendHeadersAsync(Http2HeaderList fields, bool endStream, CancellationToken cancellationToken = default) =>
        _connection.SendHeadersAsync(this, fields, endStream, cancellationToken);

    /// <summary>Sends data as the peer's windows allow, waiting for them to open.</summary>
    public ValueTask SendDataAsync(ReadOnlyMemory<byte> data, bool endStream, CancellationToken cancellationToken = default) =>
        _connection.SendDataAsync(this, data, endStream, cancellationToken);

    /// <summary>Sends a header block now if no other writer holds the connection (see <see cref="Http2Connection.TrySendHeadersNow"/>).</summary>
    public bool TrySendHeadersNow(Http2HeaderList fields, bool endStream) => _connection.TrySendHeadersNow(this, fields, endStream);

    /// <summary>Sends data now if no other writer holds the connection and the windows have room (see <see cref="Http2Connection.TrySendDataNow"/>).</summary>
    public bool TrySendDataNow(ReadOnlySpan<byte> data, bool endStream) => _connection.TrySendDataNow(this, data, endStream);

    /// <summary>
    /// Ends the stream at once with RST_STREAM (written now, or queued for the connection's next writer: it never waits);
    /// the peer's frames for it that were under way are dropped.
    /// </summary>
    public void Reset(Http2ErrorCode code) => _connection.Reset(this, code);

    /// <summary>
    /// Bytes of <see cref="IHttp2StreamHandler.OnData"/> passed on (or dropped): the peer may send as many more. Each byte
    /// counts once: more than the stream was handed, or what its reset gave back already, gives nothing.
    /// </summary>
    public void Consumed(int bytes) => _connection.Credit(this, bytes);

    public override string ToString() => $"stream {Id}";
}
