namespace FedMesh.Core.Http2;

/// <summary>
/// Flow control's receiving side: the windows this side gave the peer, given back as its owners pass data on, in updates of
/// at least half a window, which are never dropped.
/// </summary>
internal sealed partial class Http2Connection
{
    /// <summary>Gives the peer back <paramref name="bytes"/> of a stream's window and the connection's, in updates of at least half a window.</summary>
    internal void Credit(Http2Stream stream, int bytes)
    {
        int streamUpdate = 0;
        lock (_state)
        {
            if (_closed)
                return;
            _receiveUncredited += bytes;
            if (_streams.ContainsKey(stream.Id) && !stream.RemoteClosed)
            {
                stream.ReceiveUncredited += bytes;
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
