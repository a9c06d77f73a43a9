using System.Buffers;
using System.Buffers.Text;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Http2;

public abstract partial class Http2Relay
{
    private sealed partial class RelayedStream
    {
        /// <summary>The upstream's side of one attempt: its head, data, trailers and reset, on to the caller.</summary>
        private sealed class UpstreamSide(RelayedStream relayed, int attempt) : IHttp2StreamHandler
        {
            private bool Stale => attempt != Volatile.Read(ref relayed._attempt);

            public void OnHeaders(Http2Stream stream, Http2HeaderList fields, bool endStream)
            {
                if (Stale)
                    return;
                if (!relayed._responseStarted && Utf8Parser.TryParse(fields[":status"u8], out int code, out _) && code >= 200)
                {
                    if (relayed._target.Replayable && !relayed._relay.AcceptResponse(relayed._target, code))
                    {
                        // Held back for another attempt: nothing of it reaches the caller. The new attempt resets this one's
                        // stream (after it has taken over: a send to it that fails then is an old attempt's, not a failure).
                        if (!relayed.Retry(attempt, code, ForwarderError.None, null))
                            relayed.Abort(ForwarderError.ResponseHeaders, new IOException($"the upstream answered {code}, held back for an attempt that could not be made"),
                                resetCaller: Http2ErrorCode.Cancel, resetUpstream: Http2ErrorCode.Cancel);
                        return;
                    }
                    // The final response's head: the one the caller's status is, and the one the owner's field goes on.
                    relayed._status = code;
                    relayed._responseStarted = true;
                    relayed._toUpstream.ReplayDone();
                    if (relayed._target.ResponseField is { } extra)
                        AddField(fields, extra); // the connection's list, for this call: added to in place
                }
                relayed._toCaller.Add(fields, endStream);
            }

            public void OnData(Http2Stream stream, ReadOnlySequence<byte> data, bool endStream)
            {
                if (Stale)
                    stream.Consumed((int)data.Length); // an abandoned attempt's: dropped, its window given back
                else
                    relayed._toCaller.Add(data, endStream);
            }

            public void OnReset(Http2Stream stream, Http2ErrorCode code, Exception? error)
            {
                if (Stale)
                    return;
                if (code == Http2ErrorCode.NoError && error is null && relayed._responseEnded)
                {
                    // A whole response, then "send no more" (RFC 9113 §8.1): the caller is told the same, and that is a success.
                    relayed._abort.Cancel();
                    relayed._caller.Reset(Http2ErrorCode.NoError);
                    relayed.End(relayed._status, ForwarderError.None, null);
                    return;
                }
                var failure = error ?? new IOException($"the upstream reset the stream ({code})");
                if (!relayed._responseStarted)
                    relayed.Failed(attempt, ForwarderError.Request, failure,
                        connectionGone: code == Http2ErrorCode.RefusedStream || (error is not null && stream.Connection.IsClosed));
                else
                    relayed.Abort(ForwarderError.ResponseBodyDestination, failure, resetCaller: code == Http2ErrorCode.NoError ? Http2ErrorCode.Cancel : code, resetUpstream: null);
            }
        }
    }
}
