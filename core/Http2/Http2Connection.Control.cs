using System.Buffers;

namespace FedMesh.Core.Http2;

/// <summary>
/// The control frames this side owes the peer (PING and SETTINGS acknowledgements, RST_STREAM for its stream errors,
/// WINDOW_UPDATE), sent without waiting for the writer's turn: a read loop that waited for its own answers to be
/// written would stop reading as soon as the peer stopped reading (TCP pushes back), and two peers that both write
/// could wait on each other for ever. A frame is written at once when the writer's turn is free or already this read's
/// (it then goes out with the read's other writes, in one flush: <see cref="Http2WriteBatch"/>); otherwise it waits in a
/// queue that the next writer writes ahead of its own frames, or a drain started for it does. The queue is bounded
/// (<see cref="Http2ConnectionOptions.MaxQueuedControlFrames"/>): a peer that floods PINGs or SETTINGS and never reads
/// costs a bounded amount of memory, then the connection (ENHANCE_YOUR_CALM, RFC 9113 §10.5). Window updates that wait
/// are merged, one a stream and one for the connection, so they cost memory by the stream and are not counted.
/// </summary>
internal sealed partial class Http2Connection
{
    // Guarded by _state: what waits for the writer's turn, and whether a drain is on its way for it.
    private readonly List<ControlFrame> _controlQueued = [];
    private Dictionary<int, int>? _creditQueued; // stream id (0: the connection) → window increment
    private bool _controlDrainStarted;
    private volatile bool _controlWaiting; // a writer's cheap look: anything queued?

    // The writer's own (whoever holds the writer's turn): what it took from the queue, written outside the state lock.
    private readonly List<ControlFrame> _controlTaken = [];
    private readonly List<KeyValuePair<int, int>> _creditTaken = [];

    /// <summary>A control frame owed: a PING's data, a SETTINGS' header table size, or RST_STREAM's error code.</summary>
    private readonly record struct ControlFrame(Http2FrameType Type, int StreamId, ulong Value);

    /// <summary>
    /// Sends a control frame without waiting: now when the writer's turn can be had, else queued. Throws a connection
    /// error ENHANCE_YOUR_CALM when the queue is full: the peer makes this side answer and does not read the answers.
    /// </summary>
    private void SendControl(ControlFrame frame)
    {
        if (TryTakeTurn(out var batch, out var held))
        {
            WriteInTurn(batch, held, frame, static (self, frame) => self.WriteControl(frame));
            return;
        }
        bool drain;
        lock (_state)
        {
            if (_closed)
                return;
            if (_controlQueued.Count >= _options.MaxQueuedControlFrames)
            {
                _controlQueued.Clear(); // the connection ends: what the flood made is dropped, its GOAWAY goes first
                throw new Http2ConnectionException(Http2ErrorCode.EnhanceYourCalm,
                    $"the peer does not read what it makes this side answer: {_options.MaxQueuedControlFrames} control frames (PING and SETTINGS "
                    + "acknowledgements, RST_STREAM) wait to be written, the most Http2ConnectionOptions.MaxQueuedControlFrames allows (RFC 9113 §10.5)");
            }
            _controlQueued.Add(frame);
            drain = StartDrain();
        }
        if (drain)
            _ = DrainControlAsync();
    }

    /// <summary>Sends window updates without waiting: now when the writer's turn can be had, else merged into what waits.</summary>
    private void SendCredit(int streamId, int streamUpdate, int connectionUpdate)
    {
        if (TryTakeTurn(out var batch, out var held))
        {
            try
            {
                WriteInTurn(batch, held, (streamId, streamUpdate, connectionUpdate), static (self, credit) =>
                {
                    if (credit.streamUpdate > 0)
                        Http2FrameWriter.WriteWindowUpdate(self._output, credit.streamId, credit.streamUpdate);
                    if (credit.connectionUpdate > 0)
                        Http2FrameWriter.WriteWindowUpdate(self._output, 0, credit.connectionUpdate);
                });
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or ObjectDisposedException)
            {
                // The transport has ended (an owner giving data back on its own thread hears nothing of it): the read loop sees it.
            }
            return;
        }
        bool drain;
        lock (_state)
        {
            if (_closed)
                return;
            _creditQueued ??= [];
            if (streamUpdate > 0)
                _creditQueued[streamId] = _creditQueued.GetValueOrDefault(streamId) + streamUpdate;
            if (connectionUpdate > 0)
                _creditQueued[0] = _creditQueued.GetValueOrDefault(0) + connectionUpdate;
            drain = StartDrain();
        }
        if (drain)
            _ = DrainControlAsync();
    }

    /// <summary>
    /// The writer's turn without waiting: held already by this thread's read batch, or free. When it is not held,
    /// <see cref="Written"/> gives it back after the write (with the batch's flush, or a flush of its own).
    /// </summary>
    private bool TryTakeTurn(out Http2WriteBatch? batch, out bool held)
    {
        batch = Http2WriteBatch.Active;
        held = batch is not null && batch.Holds(this);
        return held || _writing.Wait(0);
    }

    /// <summary>
    /// With the writer's turn from <see cref="TryTakeTurn"/>: writes what waits (see <see cref="WriteQueuedControl"/>),
    /// then <paramref name="write"/>, and gives the turn back through <see cref="Written"/>. False, nothing written and
    /// the turn given back unless a read batch holds it, when the connection has ended.
    /// </summary>
    private bool WriteInTurn<TState>(Http2WriteBatch? batch, bool held, TState state, Action<Http2Connection, TState> write)
    {
        if (GiveBackTurnIfClosed(held))
            return false;
        try
        {
            WriteQueuedControl(); // those that waited go first
            write(this, state);
        }
        finally
        {
            Written(batch, held);
        }
        return true;
    }

    /// <summary>With the writer's turn: true, and the turn given back unless a read batch holds it, when the connection has ended.</summary>
    private bool GiveBackTurnIfClosed(bool held)
    {
        if (!IsClosed)
            return false;
        if (!held)
            _writing.Release();
        return true;
    }

    /// <summary>Under the state lock, with something just queued: whether a drain must be started for it (one at a time).</summary>
    private bool StartDrain()
    {
        _controlWaiting = true;
        if (_controlDrainStarted)
            return false;
        _controlDrainStarted = true;
        return true;
    }

    /// <summary>Waits for the writer's turn, then writes and flushes what is queued (unless a writer before it did).</summary>
    private async Task DrainControlAsync()
    {
        try
        {
            await _writing.WaitAsync(_closing.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return; // the connection is ending: nothing more goes out but its GOAWAY
        }
        try
        {
            if (!WriteQueuedControl(drain: true))
            {
                _writing.Release();
                return;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or ObjectDisposedException)
        {
            _writing.Release(); // the transport has ended: the read loop sees it
            return;
        }
        try
        {
            FlushThenRelease();
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or ObjectDisposedException)
        {
            // Given back by the flush that failed; the read loop sees the end.
        }
    }

    /// <summary>
    /// With the writer's turn: writes what is queued, oldest first, ahead of what the writer came to write (so a SETTINGS
    /// acknowledgement and its header table size come before any header block encoded after it). True when it wrote.
    /// </summary>
    private bool WriteQueuedControl(bool drain = false)
    {
        if (!_controlWaiting && !drain)
            return false;
        lock (_state)
        {
            if (drain)
                _controlDrainStarted = false; // from now on what is queued needs a drain of its own, unless a writer takes it
            _controlWaiting = false;
            if (_closed)
            {
                _controlQueued.Clear();
                _creditQueued?.Clear();
                return false;
            }
            _controlTaken.AddRange(_controlQueued);
            _controlQueued.Clear();
            if (_creditQueued is { Count: > 0 })
            {
                foreach (var credit in _creditQueued)
                {
                    if (credit.Key == 0 || _streams.ContainsKey(credit.Key)) // a stream reset meanwhile needs no more window
                        _creditTaken.Add(credit);
                }
                _creditQueued.Clear();
            }
        }
        var wrote = _controlTaken.Count + _creditTaken.Count > 0;
        try
        {
            foreach (var frame in _controlTaken)
                WriteControl(frame);
            foreach (var credit in _creditTaken)
                Http2FrameWriter.WriteWindowUpdate(_output, credit.Key, credit.Value);
        }
        finally
        {
            _controlTaken.Clear();
            _creditTaken.Clear();
        }
        return wrote;
    }

    /// <summary>With the writer's turn: one control frame into the output.</summary>
    private void WriteControl(in ControlFrame frame)
    {
        IBufferWriter<byte> output = _output;
        switch (frame.Type)
        {
            case Http2FrameType.Ping:
                Http2FrameWriter.WritePingAck(output, frame.Value);
                break;
            case Http2FrameType.Settings:
                // The encoder's table follows the peer's size before anything encoded after the ACK (RFC 7541 §4.2).
                _encoder.SetPeerTableSize((int)Math.Min(frame.Value, int.MaxValue));
                Http2FrameWriter.WriteSettingsAck(output);
                break;
            case Http2FrameType.RstStream:
                Http2FrameWriter.WriteRstStream(output, frame.StreamId, (Http2ErrorCode)frame.Value);
                break;
            default:
                throw new InvalidOperationException($"{frame.Type} is not a control frame this side queues");
        }
    }
}
