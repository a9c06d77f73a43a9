using System.Buffers;
using FedMesh.Core.Http2;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// Streams of an <see cref="Http2Connection"/> that end early, against a raw peer: reset by the peer while our send
/// waits, reset by their owner with data still in flight, or reset by us for a malformed response; and padded data,
/// whose padding the windows must be given back.
/// </summary>
public sealed class Http2ConnectionResetTests
{
    [Fact]
    public async Task PeerResetsAStreamWhoseSendWaits_TheSendFails_OwnerHearsOnce()
    {
        await using var test = await RawSession.ServeAsync(newOwner: () => new StreamLog());
        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteSettings(w, [new(Http2SettingId.InitialWindowSize, 0)]));
        Assert.True((await test.Peer.ReadUntilAsync(Http2FrameType.Settings)).Header.Has(Http2Flags.Ack));
        await test.Peer.RequestAsync(1, "/a", endStream: true);
        await Eventually.TrueAsync(() => test.Owners.Count == 1, "the stream taken");
        var owner = (StreamLog)test.Owners.Single();
        await owner.Stream!.SendHeadersAsync(Kit.Fields((":status", "200")), endStream: false);
        var send = owner.Stream.SendDataAsync(new byte[100], endStream: true).AsTask(); // a window of 0: it waits
        await test.Peer.ReadUntilAsync(Http2FrameType.Headers);

        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteRstStream(w, 1, Http2ErrorCode.Cancel));

        var error = await Assert.ThrowsAsync<Http2StreamException>(() => send.WaitAsync(Eventually.DefaultTimeout));
        Assert.Equal(Http2ErrorCode.StreamClosed, error.ErrorCode);
        Assert.Equal((1, Http2ErrorCode.Cancel), (owner.Resets, owner.ResetCode));
        await test.ExpectPingAnsweredAsync();
        Assert.Equal(0, test.Connection.Connection.ActiveStreams);
    }

    [Fact]
    public async Task OwnerResets_PeerHearsIt_DataStillInFlightIsDropped_AndItsWindowGivenBack()
    {
        await using var test = await RawSession.ServeAsync(new Http2ConnectionOptions { ConnectionWindow = 65_535 }, () => new StreamLog());
        await test.Peer.RequestAsync(1, "/up", endStream: false);
        await Eventually.TrueAsync(() => test.Owners.Count == 1, "the stream taken");
        var owner = (StreamLog)test.Owners.Single();

        owner.Stream!.Reset(Http2ErrorCode.Cancel);

        Assert.Equal((1, Http2ErrorCode.Cancel), await test.Peer.ReadResetAsync());
        // 81,920 octets that crossed the reset: more than the connection's window, unless the dropped ones are given back.
        for (var i = 0; i < 5; i++)
            await test.Peer.WriteAsync(w => Http2FrameWriter.WriteData(w, 1, new byte[Http2Frames.MinMaxFrameSize], endStream: false, Http2Frames.MinMaxFrameSize));
        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteRstStream(w, 1, Http2ErrorCode.Cancel));
        await test.ExpectPingAnsweredAsync(); // after the data: no GOAWAY came first
        Assert.Equal(0, owner.Resets); // the owner reset it: nothing to tell it
        Assert.Empty(owner.Body);
    }

    [Fact]
    public async Task DataBeforeTheResponseHead_ResetsTheStream_ProtocolError()
    {
        await using var test = await RawSession.ConnectAsync();
        var (early, next) = (new StreamLog(), new StreamLog());
        await test.Connection.RequestAsync(early, "GET", "/a", "test");
        await test.Peer.ReadUntilAsync(Http2FrameType.Headers);

        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteData(w, 1, "no head"u8, endStream: true, Http2Frames.MinMaxFrameSize));

        Assert.Equal((1, Http2ErrorCode.ProtocolError), await test.Peer.ReadResetAsync());
        await early.EndedAsync();
        Assert.Equal((1, Http2ErrorCode.ProtocolError), (early.Resets, early.ResetCode));
        Assert.Empty(early.Body);

        await test.Connection.RequestAsync(next, "GET", "/b", "test");
        Assert.Equal(3, (await test.Peer.ReadUntilAsync(Http2FrameType.Headers)).Header.StreamId);
        await test.Peer.HeadersAsync(3, endStream: true, (":status", "204"));
        await next.EndedAsync();
        Assert.Equal("204", next.Head[":status"]);
    }

    [Fact]
    public async Task PaddedData_CountsAgainstTheWindow_AndIsGivenBackWithTheData()
    {
        const int DataPerFrame = 100, PadLength = 255, Charged = 1 + DataPerFrame + PadLength;
        await using var test = await RawSession.ServeAsync(new Http2ConnectionOptions { StreamWindow = 1000 }, () => new StreamLog());
        await test.Peer.RequestAsync(1, "/padded", endStream: false);
        var body = Kit.Pattern(10 * DataPerFrame);
        var window = 1000;
        for (var i = 0; i < 10; i++)
        {
            // A flow-controlled sender: while the window is short of a frame, wait for the stream's WINDOW_UPDATE.
            while (window < Charged)
            {
                var update = await test.Peer.ReadUntilAsync(Http2FrameType.WindowUpdate);
                if (update.Header.StreamId == 1)
                    window += Http2FrameReader.ReadWindowUpdate(update.Header, update.Sequence);
            }
            byte[] payload = [PadLength, .. body.AsSpan(i * DataPerFrame, DataPerFrame), .. new byte[PadLength]];
            await test.Peer.WriteAsync(w => w.Write(Http2TestFrames.Raw(Http2FrameType.Data, Http2Flags.Padded, 1, payload)));
            window -= Charged;
        }
        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteData(w, 1, [], endStream: true, Http2Frames.MinMaxFrameSize));

        var owner = (StreamLog)test.Owners.Single();
        await owner.EndedAsync();
        Assert.Equal(0, owner.Resets);
        Assert.Equal(body, owner.Body);
    }
}
