using System.Buffers;
using System.IO.Pipelines;

namespace FedMesh.Core.Http2;

/// <summary>
/// One HTTP/2 connection (RFC 9113), as the client or the server, over a duplex pipe: the preface and settings, the
/// streams and their states, header blocks (HEADERS and CONTINUATION put together, HPACK both ways), flow control both
/// ways, PING, RST_STREAM and GOAWAY. What a stream carries is its owner's (<see cref="IHttp2StreamHandler"/>): a
/// server's owner is made by <c>accept</c> for each stream the peer opens, a client opens streams with
/// <see cref="TryOpenStream"/>. <see cref="RunAsync"/> reads until the connection ends, never waiting for its own answers
/// to be written (see SendControl); frames are written by whoever sends, one writer at a time.
/// </summary>
internal sealed partial class Http2Connection : IAsyncDisposable
{
    private const int OurMaxFrameSize = Http2Frames.MinMaxFrameSize;
    private const int DefaultWindow = 65_535;

    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly bool _isServer;
    private readonly Http2ConnectionOptions _options;
    private readonly Func<Http2Stream, IHttp2StreamHandler>? _accept;
    private readonly Lock _state = new();
    private readonly Dictionary<int, Http2Stream> _streams = [];
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly HPackEncoder _encoder = new();
    private readonly HPackDecoder _decoder;
    private readonly Http2HeaderList _received = new();
    private readonly ArrayBufferWriter<byte> _block = new(1024);
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _runEnded = NewSignal();

    // Guarded by _state.
    private Http2Settings _peer = new();
    private long _sendWindow = DefaultWindow;
    private long _receiveWindow = DefaultWindow;
    private int _receiveUncredited;
    private int _lastPeerStream;
    private int _nextStreamId = 1;
    private int _opening;
    private int _goAwayLastStream = int.MaxValue;
    private bool _running;
    private bool _closed;
    private bool _goAwaySent;
    private Exception? _closeReason;
    private TaskCompletionSource _windowOpened = NewSignal();

    // The read loop's own: a header block under way.
    private byte[] _fragments = new byte[4096];
    private int _fragmentLength;
    private int _fragmentStream;
    private bool _fragmentEndsStream;

    public Http2Connection(IDuplexPipe transport, bool isServer, Http2ConnectionOptions? options = null,
        Func<Http2Stream, IHttp2StreamHandler>? accept = null)
    {
        if (isServer && accept is null)
            throw new ArgumentException("a server connection needs an accept function for the streams its peer opens", nameof(accept));
        _input = transport.Input;
        _output = transport.Output;
        _isServer = isServer;
        _options = options ?? new Http2ConnectionOptions();
        _accept = accept;
        List<string> problems = [];
        if (_options.SettingsTimeout <= TimeSpan.Zero && _options.SettingsTimeout != Timeout.InfiniteTimeSpan)
            problems.Add($"Http2ConnectionOptions.SettingsTimeout is {_options.SettingsTimeout}: give a positive time, or Timeout.InfiniteTimeSpan to wait for ever");
        if (_options.MaxQueuedControlFrames < 1)
            problems.Add($"Http2ConnectionOptions.MaxQueuedControlFrames is {_options.MaxQueuedControlFrames}: give at least 1 (1,000 unless set)");
        if (problems.Count > 0)
            throw new ArgumentOutOfRangeException(nameof(options), string.Join("; ", problems));
        _decoder = new HPackDecoder(maxHeaderListSize: _options.MaxHeaderListSize);
        // Buffered now, so that it goes out first whoever flushes first (a client may send a stream's HEADERS at once).
        WritePreface(_output);
    }

    /// <summary>Streams open now, those being opened included.</summary>
    public int ActiveStreams
    {
        get { lock (_state) return _streams.Count + _opening; }
    }

    /// <summary>Adds the handlers of the streams open now to <paramref name="into"/> (a sweep's look at them).</summary>
    public void CollectHandlers(List<IHttp2StreamHandler> into)
    {
        lock (_state)
        {
            foreach (var stream in _streams.Values)
            {
                if (stream.Handler is { } handler) // null until the accepting owner has made it
                    into.Add(handler);
            }
        }
    }

    /// <summary>Whether the connection takes no new stream: closed, or the peer said GOAWAY.</summary>
    public bool IsDraining
    {
        get { lock (_state) return _closed || _goAwayLastStream != int.MaxValue; }
    }

    /// <summary>Ended: <see cref="RunAsync"/> has returned or is returning.</summary>
    public bool IsClosed
    {
        get { lock (_state) return _closed; }
    }

    /// <summary>
    /// Sends this side's preface and settings, then reads and acts on frames until the peer closes, a connection error
    /// (sent as GOAWAY), or <paramref name="cancellationToken"/>. Every stream still open then hears OnReset.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        var token = linked.Token;
        Exception? reason = null;
        lock (_state)
            _running = true;
        ArmSettingsTimeout();
        try
        {
            await WriteAsync(static _ => { }, token).ConfigureAwait(false); // the preface and settings, written when made
            if (_isServer)
                await ReadPrefaceAsync(token).ConfigureAwait(false);
            while (true)
            {
                var result = await _input.ReadAsync(token).ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    // What the frames of this read make this thread send, its own answers included, is flushed together,
                    // after them; nothing in between waits for a write (see SendControl).
                    Http2WriteBatch.Enter();
                    while (Http2FrameReader.TryReadFrame(ref buffer, OurMaxFrameSize, out var header, out var payload))
                        Process(header, payload);
                }
                finally
                {
                    Http2WriteBatch.Done(); // flushed now, or with the rest of the socket loop's turn
                    _input.AdvanceTo(buffer.Start, buffer.End);
                }
                if (result.IsCompleted || result.IsCanceled)
                {
                    reason = new IOException(buffer.IsEmpty ? "the peer closed the connection" : "the peer closed the connection inside a frame");
                    break;
                }
            }
        }
        catch (Http2ConnectionException e)
        {
            reason = e;
            await GoAwayAfterErrorAsync(e).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (Volatile.Read(ref _failure) is { } failure)
        {
            reason = failure; // a connection error found outside the read loop (the SETTINGS timeout)
            await GoAwayAfterErrorAsync(failure).ConfigureAwait(false);
        }
        catch (OperationCanceledException e)
        {
            reason = _closing.IsCancellationRequested ? new ObjectDisposedException(nameof(Http2Connection)) : e;
            if (!_closing.IsCancellationRequested)
                await TryWriteAsync(w => Http2FrameWriter.WriteGoAway(w, LastPeerStream, Http2ErrorCode.NoError)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            reason = e;
        }
        finally
        {
            DisarmSettingsTimeout();
            Close(reason ?? new IOException("the connection ended"));
            try
            {
                await CompleteTransportAsync().ConfigureAwait(false);
            }
            finally
            {
                _runEnded.TrySetResult(); // DisposeAsync waits for it, whatever happened
            }
        }
    }

    /// <summary>
    /// A new client stream for <paramref name="handler"/>, its id given when its first header block goes out; false when
    /// the peer's stream limit is reached or the connection drains (open one elsewhere).
    /// </summary>
    public bool TryOpenStream(IHttp2StreamHandler handler, out Http2Stream stream)
    {
        stream = null!;
        if (_isServer)
            throw new InvalidOperationException("a server connection does not open streams (no server push)");
        lock (_state)
        {
            if (_closed || _goAwayLastStream != int.MaxValue || _streams.Count + _opening >= _peer.MaxConcurrentStreams)
                return false;
            _opening++;
        }
        stream = new Http2Stream(this, handler, 0);
        return true;
    }

    /// <summary>A connection error's GOAWAY, its message as the debug data.</summary>
    private Task GoAwayAfterErrorAsync(Http2ConnectionException error) =>
        TryWriteAsync(w => Http2FrameWriter.WriteGoAway(w, LastPeerStream, error.ErrorCode, System.Text.Encoding.UTF8.GetBytes(error.Message)));

    private int LastPeerStream
    {
        get { lock (_state) return _lastPeerStream; }
    }

    private void WritePreface(IBufferWriter<byte> output)
    {
        if (!_isServer)
            output.Write(Http2Frames.ConnectionPreface);
        Span<Http2Setting> settings =
        [
            new(Http2SettingId.MaxConcurrentStreams, (uint)_options.MaxConcurrentStreams),
            new(Http2SettingId.InitialWindowSize, (uint)_options.StreamWindow),
            new(Http2SettingId.MaxHeaderListSize, (uint)_options.MaxHeaderListSize),
            new(Http2SettingId.EnablePush, 0),
        ];
        Http2FrameWriter.WriteSettings(output, settings);
        if (_options.ConnectionWindow > DefaultWindow)
        {
            Http2FrameWriter.WriteWindowUpdate(output, 0, _options.ConnectionWindow - DefaultWindow);
            lock (_state)
                _receiveWindow += _options.ConnectionWindow - DefaultWindow;
        }
    }

    private async Task ReadPrefaceAsync(CancellationToken token)
    {
        var preface = Http2Frames.ConnectionPreface.Length;
        while (true)
        {
            var result = await _input.ReadAsync(token).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= preface)
            {
                var matches = IsPreface(buffer.Slice(0, preface));
                _input.AdvanceTo(buffer.GetPosition(matches ? preface : 0));
                if (!matches)
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "the client's first bytes are not the HTTP/2 connection preface");
                return;
            }
            _input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
                throw new IOException("the client closed the connection before its preface");
        }
    }

    private static bool IsPreface(ReadOnlySequence<byte> first)
    {
        Span<byte> bytes = stackalloc byte[Http2Frames.ConnectionPreface.Length];
        first.CopyTo(bytes);
        return bytes.SequenceEqual(Http2Frames.ConnectionPreface);
    }

    private void SignalWindow()
    {
        var opened = _windowOpened;
        _windowOpened = NewSignal();
        opened.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
