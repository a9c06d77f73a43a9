using System.Buffers;
using FedMesh.Core.Http2;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// The connection's receive window when a stream's owner throws in OnData: the stream is reset, and what the owner
/// had not given back of its data goes back to the connection's window, exactly once (what the owner gave back before
/// it threw is not given again). A flow-controlled raw client sends more than the connection's window through such
/// streams, then a body to a stream that works; it counts the WINDOW_UPDATEs, which never give more than was sent.
/// </summary>
public sealed class Http2ThrowingOwnerCreditTests
{
    private const int Window = 65_535;
    private const int Throwing = 8;
    private const int Frame = Http2Frames.MinMaxFrameSize;

    [Theory]
    [InlineData(0)]
    [InlineData(1000)]
    [InlineData(Frame)]
    public async Task OwnersThrowInOnData_TheirDataIsCreditedBackOnce_AndALaterStreamsDataArrives(int givenBackFirst)
    {
        var opened = 0;
        var good = new StreamLog();
        await using var test = await RawSession.ServeAsync(new Http2ConnectionOptions { ConnectionWindow = Window },
            () => ++opened <= Throwing ? new ThrowingOwner(givenBackFirst) : good);
        var client = new FlowControlledClient(test.Peer);

        for (var i = 0; i < Throwing; i++)
        {
            var id = 1 + 2 * i;
            await test.Peer.RequestAsync(id, "/throws", endStream: false);
            await client.SendDataAsync(id, new byte[Frame], endStream: false);
        }
        // Twice the connection's window went to owners that threw: only the credit they left behind lets this through.
        var body = Kit.Pattern(3 * Frame + 123);
        await test.Peer.RequestAsync(1 + 2 * Throwing, "/works", endStream: false);
        for (var offset = 0; offset < body.Length; offset += Frame)
            await client.SendDataAsync(1 + 2 * Throwing, body.AsSpan(offset, Math.Min(Frame, body.Length - offset)).ToArray(), endStream: offset + Frame >= body.Length);

        await good.EndedAsync();
        Assert.Equal(0, good.Resets);
        Assert.Equal(body, good.Body);
        await client.ReadUntilPingAnsweredAsync(); // every update made by now has been read
        Assert.Equal(Enumerable.Range(0, Throwing).Select(i => (1 + 2 * i, Http2ErrorCode.InternalError)), client.Resets);
        // Everything sent was given back but what waits for half a window (never more than was sent: checked at each update).
        var outstanding = client.Sent - client.Credited;
        Assert.InRange(outstanding, 0, Window / 2 - 1);
        Assert.Equal(Throwing + 1, opened);
    }

    /// <summary>Gives back <paramref name="givenBackFirst"/> octets of the data it gets, then throws.</summary>
    private sealed class ThrowingOwner(int givenBackFirst) : IHttp2StreamHandler
    {
        public void OnHeaders(Http2Stream stream, Http2HeaderList fields, bool endStream)
        {
        }

        public void OnData(Http2Stream stream, ReadOnlySequence<byte> data, bool endStream)
        {
            if (givenBackFirst > 0)
                stream.Consumed(Math.Min(givenBackFirst, (int)data.Length));
            throw new InvalidOperationException("the owner's bug");
        }

        public void OnReset(Http2Stream stream, Http2ErrorCode code, Exception? error)
        {
        }
    }

    /// <summary>
    /// The raw peer as a client that respects our connection's window: it sends DATA only while the window has room,
    /// reading WINDOW_UPDATEs for more; every update is checked to keep the window within what we gave at the start.
    /// </summary>
    private sealed class FlowControlledClient(Http2RawPeer peer)
    {
        private long _window = Window;

        public long Sent { get; private set; }

        public long Credited { get; private set; }

        public List<(int StreamId, Http2ErrorCode Code)> Resets { get; } = [];

        public async Task SendDataAsync(int streamId, byte[] data, bool endStream)
        {
            while (_window < data.Length)
                Take(await peer.ReadFrameAsync()); // bounded by the raw peer's timeout: a credit never given fails here
            _window -= data.Length;
            Sent += data.Length;
            await peer.WriteAsync(w => Http2FrameWriter.WriteData(w, streamId, data, endStream, Frame));
        }

        public async Task ReadUntilPingAnsweredAsync()
        {
            await peer.WriteAsync(w => Http2FrameWriter.WritePing(w, 42));
            while (true)
            {
                var frame = await peer.ReadFrameAsync();
                if (frame.Header.Type == Http2FrameType.Ping && frame.Header.Has(Http2Flags.Ack))
                    return;
                Take(frame);
            }
        }

        private void Take(PeerFrame frame)
        {
            Assert.NotEqual(Http2FrameType.GoAway, frame.Header.Type);
            if (frame.Header.Type == Http2FrameType.RstStream)
                Resets.Add((frame.Header.StreamId, Http2FrameReader.ReadRstStream(frame.Header, frame.Sequence)));
            if (frame.Header.Type != Http2FrameType.WindowUpdate || frame.Header.StreamId != 0)
                return;
            var increment = Http2FrameReader.ReadWindowUpdate(frame.Header, frame.Sequence);
            _window += increment;
            Credited += increment;
            Assert.True(_window <= Window, $"a WINDOW_UPDATE of {increment} takes the connection's window to {_window}, past the {Window} given: credit returned twice");
        }
    }
}
