namespace FedMesh.Core.Http2;

/// <summary>
/// Flow control's receiving side: the windows this side gave the peer, given back as its owners pass data on, in updates
/// of at least half a window, which are never dropped. Each stream counts the data its owner was handed and has not
/// given back (<see cref="Http2Stream.Unreturned"/>): what the owner gives back is taken from it, never more, and when
/// the stream is reset (by the peer, by its owner, or for an error, its owner's throw included) the connection's window
/// takes back what is left, once; the owner's later <see cref="Http2Stream.Consumed"/> for it then gives nothing twice.
/// A stream that ended normally keeps its count with its owner, who may still be passing its data on.
/// </summary>
internal sealed partial class Http2Connection
{
    /// <summary>Gives the peer back <paramref name="bytes"/> of a stream's window and the connection's, in updates of at least half a window.</summary>
    internal void Credit(Http2Stream stream, int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        int streamUpdate = 0;
        lock (_state)
        {
            if (_closed)
                return;
            // Only what the owner was handed and has not given back yet: what the connection took back at a reset is not given twice.
            var back = Math.Min(bytes, stream.Unreturned);
            if (back == 0)
                return;
            stream.Unreturned -= back;
            _receiveUncredited += back;
            if (_streams.ContainsKey(stream.Id) && !stream.RemoteClosed)
            {
                stream.ReceiveUncredited += back;
                if (stream.ReceiveUncredited >= _options.StreamWindow / 2)
                {
                    streamUpdate = stream.ReceiveUncredited;
                    stream.ReceiveWindow += streamUpdate;
                    stream.ReceiveUncredited = 0;
                }
            }
        }
        CreditConnection(streamUpdate, stream.Id);
    }

    /// <summary>Under the state lock, for a stream that was reset: what its owner had not given back returns to the connection's window.</summary>
    private void TakeBackUnreturned(Http2Stream stream)
    {
        _receiveUncredited += stream.Unreturned;
        stream.Unreturned = 0;
    }

    /// <summary>Sends the connection's update when half its window waits to be given back, with a stream's update if one is due.</summary>
    private void CreditConnection(int streamUpdate, int streamId = 0)
    {
        int connectionUpdate = 0;
        lock (_state)
        {
            if (_closed)
                return;
            if (_receiveUncredited >= _options.ConnectionWindow / 2)
            {
                connectionUpdate = _receiveUncredited;
                _receiveWindow += connectionUpdate;
                _receiveUncredited = 0;
            }
        }
        if (streamUpdate == 0 && connectionUpdate == 0)
            return;
        // Never dropped, and never waited for: written now, or merged into what waits for the writer (see SendCredit).
        SendCredit(streamId, streamUpdate, connectionUpdate);
    }
}
