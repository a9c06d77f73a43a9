using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using FedMesh.Core.Http2;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Http2;

/// <summary>A frame as a raw peer read it: a copy of its payload, and a HEADERS frame's fields.</summary>
internal sealed record PeerFrame(Http2FrameHeader Header, byte[] Payload, Dictionary<string, string>? Fields)
{
    public ReadOnlySequence<byte> Sequence => new(Payload);
}

/// <summary>
/// A bare HTTP/2 endpoint for the tests, on one end of a socket: writes what the frame writer writes (right or wrong),
/// reads frames with the frame reader, each read bounded by the timeout, and encodes header blocks with its own HPACK
/// encoder.
/// </summary>
internal sealed class Http2RawPeer(Socket socket) : IAsyncDisposable
{
    private readonly NetworkStream _stream = new(socket, ownsSocket: true);
    private readonly HPackEncoder _encoder = new();
    private readonly HPackDecoder _decoder = new();
    private PipeReader? _reader;

    private PipeReader Reader => _reader ??= PipeReader.Create(_stream);

    public async Task WriteAsync(Action<IBufferWriter<byte>> write)
    {
        var writer = new ArrayBufferWriter<byte>();
        write(writer);
        using var timeout = new CancellationTokenSource(Eventually.DefaultTimeout);
        await _stream.WriteAsync(writer.WrittenMemory, timeout.Token);
    }

    /// <summary>Our side as a client: preface and empty SETTINGS out, the server's SETTINGS in and acknowledged.</summary>
    public async Task StartAsClientAsync()
    {
        await WriteAsync(w => { w.Write(Http2Frames.ConnectionPreface); Http2FrameWriter.WriteSettings(w, []); });
        await ReadSettingsAndAckAsync();
    }

    /// <summary>Our side as a server: the client's preface and SETTINGS in and acknowledged, empty SETTINGS out.</summary>
    public async Task StartAsServerAsync()
    {
        Assert.Equal(Http2Frames.ConnectionPreface.ToArray(), await ReadAsync(Http2Frames.ConnectionPreface.Length));
        await WriteAsync(w => Http2FrameWriter.WriteSettings(w, []));
        await ReadSettingsAndAckAsync();
    }

    /// <summary>An encoded header block, through this peer's HPACK table (so blocks must go out in the order made).</summary>
    public byte[] Block(params (string Name, string Value)[] fields)
    {
        var block = new ArrayBufferWriter<byte>();
        _encoder.StartBlock(block);
        foreach (var (name, value) in fields)
            _encoder.Encode(block, Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value));
        return block.WrittenSpan.ToArray();
    }

    /// <summary>A request head for <paramref name="path"/> (GET when it ends the stream, else POST) as one HEADERS frame.</summary>
    public Task RequestAsync(int streamId, string path, bool endStream, params (string Name, string Value)[] extra) =>
        HeadersAsync(streamId, endStream, [(":method", endStream ? "GET" : "POST"), (":scheme", "http"), (":authority", "test"), (":path", path), .. extra]);

    /// <summary>A header block of <paramref name="fields"/> as one HEADERS frame.</summary>
    public Task HeadersAsync(int streamId, bool endStream, params (string Name, string Value)[] fields)
    {
        var block = Block(fields);
        return WriteAsync(w => Http2FrameWriter.WriteHeaders(w, streamId, block, endStream, Http2Frames.MinMaxFrameSize));
    }

    public async Task<byte[]> ReadAsync(int count)
    {
        using var timeout = new CancellationTokenSource(Eventually.DefaultTimeout);
        while (true)
        {
            var result = await Reader.ReadAsync(timeout.Token);
            if (result.Buffer.Length >= count)
            {
                var bytes = result.Buffer.Slice(0, count).ToArray();
                Reader.AdvanceTo(result.Buffer.GetPosition(count));
                return bytes;
            }
            if (result.IsCompleted)
                throw new EndOfStreamException($"the connection closed before {count} octets came");
            Reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    /// <summary>The next frame (a HEADERS frame's block decoded, through this peer's table); null when the connection closes between frames.</summary>
    public async Task<PeerFrame?> ReadFrameOrEndAsync()
    {
        using var timeout = new CancellationTokenSource(Eventually.DefaultTimeout);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await Reader.ReadAsync(timeout.Token);
            }
            catch (IOException) when (!timeout.IsCancellationRequested)
            {
                return null; // reset rather than closed: an end all the same
            }
            var buffer = result.Buffer;
            if (Http2FrameReader.TryReadFrame(ref buffer, Http2Frames.MaxMaxFrameSize, out var header, out var payload))
            {
                var frame = new PeerFrame(header, payload.ToArray(), header.Type == Http2FrameType.Headers ? Decode(header, payload) : null);
                Reader.AdvanceTo(buffer.Start);
                return frame;
            }
            if (result.IsCompleted)
            {
                Assert.True(buffer.IsEmpty, $"the connection closed inside a frame ({buffer.Length} octets left)");
                return null;
            }
            Reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    public async Task<PeerFrame> ReadFrameAsync() =>
        await ReadFrameOrEndAsync() ?? throw new EndOfStreamException("the connection closed between frames");

    /// <summary>The next frame of <paramref name="type"/>; frames before it are passed over (<paramref name="skipped"/> gets them).</summary>
    public async Task<PeerFrame> ReadUntilAsync(Http2FrameType type, List<PeerFrame>? skipped = null)
    {
        while (true)
        {
            var frame = await ReadFrameAsync();
            if (frame.Header.Type == type)
                return frame;
            skipped?.Add(frame);
        }
    }

    /// <summary>The GOAWAY that ends the connection, and then the end itself; its error code is returned.</summary>
    public async Task<Http2GoAway> ReadGoAwayAndEndAsync()
    {
        var frame = await ReadUntilAsync(Http2FrameType.GoAway);
        var goAway = Http2FrameReader.ReadGoAway(frame.Header, frame.Sequence);
        Assert.Null(await ReadFrameOrEndAsync());
        return goAway;
    }

    /// <summary>The next RST_STREAM: its stream and code.</summary>
    public async Task<(int StreamId, Http2ErrorCode Code)> ReadResetAsync()
    {
        var frame = await ReadUntilAsync(Http2FrameType.RstStream);
        return (frame.Header.StreamId, Http2FrameReader.ReadRstStream(frame.Header, frame.Sequence));
    }

    public async ValueTask DisposeAsync()
    {
        if (_reader is not null)
            await _reader.CompleteAsync();
        await _stream.DisposeAsync();
    }

    private Dictionary<string, string> Decode(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        Assert.True(header.Has(Http2Flags.EndHeaders), $"{header}: a small block comes in one frame");
        var fields = new Http2HeaderList();
        Assert.True(_decoder.Decode(Http2FrameReader.ReadHeaders(header, payload).ToArray(), fields));
        return Kit.Copy(fields);
    }

    private async Task ReadSettingsAndAckAsync()
    {
        var settings = await ReadFrameAsync();
        Assert.Equal(Http2FrameType.Settings, settings.Header.Type);
        Assert.False(settings.Header.Has(Http2Flags.Ack));
        await WriteAsync(Http2FrameWriter.WriteSettingsAck);
    }
}
