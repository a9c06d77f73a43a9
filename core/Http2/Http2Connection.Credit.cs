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
        _ = SendCreditAsync(streamId, streamUpdate, connectionUpdate);
    }

    /// <summary>
    /// Window updates go out however long the writer's turn takes to come: one that was dropped would leave the peer
    /// waiting for a window that never opens. Only the connection's end stops them.
    /// </summary>
    private async Task SendCreditAsync(int streamId, int streamUpdate, int connectionUpdate)
    {
        try
        {
            await WriteAsync(w =>
            {
                if (streamUpdate > 0)
                    Http2FrameWriter.WriteWindowUpdate(w, streamId, streamUpdate);
                if (connectionUpdate > 0)
                    Http2FrameWriter.WriteWindowUpdate(w, 0, connectionUpdate);
            }, _closing.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException or ObjectDisposedException)
        {
            // The connection has ended.
        }
    }
}
