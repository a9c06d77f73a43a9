namespace FedMesh.Core.Http2;

/// <summary>The peer's SETTINGS, applied and acknowledged.</summary>
internal sealed partial class Http2Connection
{
    private async ValueTask OnSettingsAsync(Http2FrameHeader header, System.Buffers.ReadOnlySequence<byte> payload, CancellationToken token)
    {
        if (header.Has(Http2Flags.Ack))
        {
            Http2FrameReader.ReadSettings(header, payload, default);
            return;
        }
        Http2Settings next;
        lock (_state)
        {
            var before = _peer;
            next = Http2FrameReader.ReadSettings(header, payload, before);
            var delta = (long)next.InitialWindowSize - before.InitialWindowSize;
            if (delta != 0)
            {
                foreach (var stream in _streams.Values)
                {
                    stream.SendWindow += delta;
                    if (stream.SendWindow > Http2Frames.MaxWindowSize)
                        throw new Http2ConnectionException(Http2ErrorCode.FlowControlError,
                            $"SETTINGS_INITIAL_WINDOW_SIZE {next.InitialWindowSize} takes {stream}'s send window past 2^31-1");
                }
                SignalWindow();
            }
            _peer = next;
        }
        // The encoder's table follows the peer's size before anything encoded after the ACK (RFC 7541 §4.2).
        await WriteAsync(w =>
        {
            _encoder.SetPeerTableSize((int)Math.Min(next.HeaderTableSize, int.MaxValue));
            Http2FrameWriter.WriteSettingsAck(w);
        }, token).ConfigureAwait(false);
    }
}
