using System.Buffers;
using System.Diagnostics;
using FedMesh.Core.Forwarding;
using Microsoft.AspNetCore.Connections;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Http2;

public abstract partial class Http2Relay
{
    /// <summary>
    /// One caller stream and the upstream stream it is relayed to. What each side's read loop receives goes on to the
    /// other side (<see cref="Direction"/>): at once, on that thread, when the other connection is free and its windows
    /// have room; else queued in order for a pump. Each side's window is given back as its data goes on, so each
    /// direction moves at the pace of the slower side, and a gRPC stream flows both ways at once.
    /// </summary>
    private sealed partial class RelayedStream : IHttp2StreamHandler
    {
        private readonly Http2Relay _relay;
        private readonly ConnectionContext _connection;
        private readonly Http2Stream _caller;
        private readonly CancellationTokenSource _abort = new();
        private readonly Direction _toUpstream;
        private readonly Direction _toCaller;
        private Http2Stream? _upstream;
        private RelayTarget _target;
        private Activity? _span;
        private long _started;
        private int _status;
        private volatile bool _responseStarted;
        private volatile bool _responseEnded;
        private int _ended; // 1 once the owner was told
        private int _directionsLeft = 2;
        private int _requestSent; // 1 once the request's end has gone upstream in the current attempt
        private bool _routed; // the owner routed it: only then is the owner told how it ended
        private long _lastActivity; // Environment.TickCount64 when a frame last moved; 0 until routed
        private readonly Lock _attempts = new();
        private int _attempt; // events of an earlier attempt's upstream stream are ignored
        private Http2HeaderList? _request; // kept to send again, for a replayable request
        private bool _noBody;
        private bool _resent; // sent once more after its upstream's connection went away (Failed)

        public RelayedStream(Http2Relay relay, ConnectionContext connection, Http2Stream caller)
        {
            _relay = relay;
            _connection = connection;
            _caller = caller;
            _toUpstream = new Direction(this, from: caller, to: null);
            _toCaller = new Direction(this, from: null, to: caller);
        }

        public void OnHeaders(Http2Stream stream, Http2HeaderList fields, bool endStream)
        {
            if (_started != 0)
            {
                _toUpstream.Add(fields, endStream: true); // trailers
                return;
            }
            _started = Stopwatch.GetTimestamp();
            if (!_relay.TryRoute(_connection, new Http2RelayRequest(fields, hasBody: !endStream), out _target, out var answer))
            {
                _toUpstream.Drop(); // a body that follows is dropped, its window given back at once
                _ = AnswerAsync(answer.Status, answer.ErrorCode, answer.Body, requestEnded: endStream);
                return;
            }
            _routed = true;
            _noBody = endStream;
            if (_target.Replayable)
            {
                _request = Copy(fields);
                _toUpstream.KeepForReplay();
            }
            _span = Telemetry.MeshTracing.Source.HasListeners() ? _relay.StartSpan(fields) : null;
            Touch();
            _relay._sweeps.Demand();
            _ = OpenAsync(UpstreamFields(fields, _target, _span), endStream, attempt: 0);
        }

        public void OnData(Http2Stream stream, ReadOnlySequence<byte> data, bool endStream) => _toUpstream.Add(data, endStream);

        // The caller gave up (or its connection ended): so does the upstream stream.
        public void OnReset(Http2Stream stream, Http2ErrorCode code, Exception? error) =>
            Abort(ForwarderError.RequestCanceled, error, resetCaller: null, resetUpstream: Http2ErrorCode.Cancel);

        /// <summary>Opens an attempt's upstream stream and sends the head; the caller's data and trailers follow as they come.</summary>
        private async Task OpenAsync(Http2HeaderList fields, bool endStream, int attempt)
        {
            Http2Stream? upstream = null;
            try
            {
                var target = _target;
                upstream = await target.Client.Http2PoolFor(target.Prefix).OpenStreamAsync(new UpstreamSide(this, attempt), _abort.Token).ConfigureAwait(false);
                upstream.State = this;
                lock (_attempts)
                {
                    if (attempt != _attempt || _abort.IsCancellationRequested)
                    {
                        upstream.Reset(Http2ErrorCode.Cancel);
                        return;
                    }
                    _upstream = upstream;
                    _toCaller.From = upstream;
                }
                if (!upstream.TrySendHeadersNow(fields, endStream)) // on the caller's read loop, batched with what else it sends
                    await upstream.SendHeadersAsync(fields, endStream, _abort.Token).ConfigureAwait(false);
                Http2HeaderList.Return(fields); // encoded: nothing refers to it any more
                Touch();
                if (endStream)
                    RequestSent();
                else
                    _toUpstream.Open(upstream);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A pooled connection that turned out to be gone as the head went on it (or that refused the stream).
                var gone = upstream is not null && (upstream.Connection.IsClosed || e is Http2StreamException { ErrorCode: Http2ErrorCode.RefusedStream });
                Failed(attempt, _abort.IsCancellationRequested ? ForwarderError.RequestCanceled : ForwarderError.Request, e, gone);
            }
        }

        /// <summary>
        /// An attempt failed before any response: another attempt if the owner wants one, else the end. When the
        /// upstream's connection went away under it (<paramref name="connectionGone"/>: closed, or the stream refused,
        /// so the request was not answered; a pooled connection the upstream had closed before it was noticed), a
        /// replayable request is first sent once more to the same target on another connection, as the HTTP/1.1 relay
        /// sends a request again after a stale reused connection.
        /// </summary>
        private void Failed(int attempt, ForwarderError error, Exception? exception, bool connectionGone = false)
        {
            lock (_attempts)
            {
                if (attempt != _attempt)
                    return; // an earlier attempt's echo
            }
            if (error != ForwarderError.RequestCanceled && !_responseStarted
                && ((connectionGone && Retry(attempt, 502, error, exception, resend: true)) || Retry(attempt, 502, error, exception)))
                return;
            Abort(error, exception, resetCaller: Http2ErrorCode.Cancel, resetUpstream: Http2ErrorCode.Cancel);
        }

        /// <summary>
        /// Sends a replayable request again where the owner says (<see cref="TryRetry"/>), or with
        /// <paramref name="resend"/> to the same target once without asking: the attempt's upstream stream reset, the
        /// head and what was kept of the body sent on a new one. False when there is to be no other attempt.
        /// </summary>
        private bool Retry(int attempt, int status, ForwarderError error, Exception? exception, bool resend = false)
        {
            Http2Stream? old;
            int next;
            Http2HeaderList fields;
            lock (_attempts)
            {
                if (attempt != _attempt || Volatile.Read(ref _ended) != 0 || !_target.Replayable)
                    return false;
                var target = _target;
                if (resend ? _resent : !_relay.TryRetry(ref target, status, error, exception))
                    return false;
                _resent |= resend;
                _target = target;
                next = ++_attempt;
                old = _upstream;
                _upstream = null;
                _toCaller.From = null;
                _toUpstream.Restart();
                if (Interlocked.Exchange(ref _requestSent, 0) == 1)
                    Interlocked.Increment(ref _directionsLeft); // the new attempt sends the request's end again
                fields = UpstreamFields(_request!, _target, _span); // under the lock: the exchange's end gives _request back under it
            }
            if (old is not null)
                old.Reset(Http2ErrorCode.Cancel);
            _ = OpenAsync(fields, _noBody, next);
            return true;
        }

        /// <summary>The request's end went upstream: counted once per attempt (<see cref="Retry"/> counts it out again).</summary>
        private void RequestSent()
        {
            if (Interlocked.Exchange(ref _requestSent, 1) == 0)
                DirectionDone();
        }

        private void DirectionDone()
        {
            if (Interlocked.Decrement(ref _directionsLeft) == 0)
                End(_status, ForwarderError.None, null);
        }

        /// <summary>
        /// Ends the exchange on a failure: before any response the caller gets the relay's 502 (504 after the activity
        /// timeout); after it, its stream is reset. Once; later failures of the same exchange are its echoes.
        /// </summary>
        private void Abort(ForwarderError error, Exception? exception, Http2ErrorCode? resetCaller, Http2ErrorCode? resetUpstream)
        {
            if (Interlocked.Exchange(ref _ended, 1) != 0)
                return;
            _abort.Cancel();
            if (resetUpstream is { } upstreamCode && _upstream is { } upstream)
                upstream.Reset(upstreamCode);
            var status = _responseStarted ? _status : error == ForwarderError.RequestTimedOut ? 504 : 502;
            var body = Report(status, error, exception);
            _toUpstream.Drop();
            _toCaller.Drop();
            if (error == ForwarderError.RequestCanceled || resetCaller is null)
                return; // the caller is gone, or was told by its own reset
            if (_responseStarted)
                _caller.Reset(resetCaller.Value);
            else
                _ = AnswerAsync(status, _relay.FailureCode, body, requestEnded: false);
        }

        private void End(int status, ForwarderError error, Exception? exception)
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
                Report(status, error, exception);
        }

        /// <summary>Tells the owner how the exchange ended (once; not for a request it answered itself), and stops its clock and span.</summary>
        private byte[] Report(int status, ForwarderError error, Exception? exception)
        {
            Http2HeaderList? kept;
            lock (_attempts)
            {
                kept = _request; // no attempt follows (_ended is set): what was kept for one goes back
                _request = null;
            }
            if (kept is not null)
                Http2HeaderList.Return(kept);
            if (!_routed)
                return [];
            try
            {
                return _relay.Completed(_target, status, error, exception, _started, _span);
            }
            finally
            {
                _span?.Dispose();
            }
        }

        private void Touch() => Volatile.Write(ref _lastActivity, Environment.TickCount64);

        /// <summary>
        /// The activity timeout, seen by the relay's sweep (<see cref="Sweep"/>): abandons the exchange once nothing has
        /// moved for that long; else the time left (null once it has ended).
        /// </summary>
        public TimeSpan? Expire(long now)
        {
            var last = Volatile.Read(ref _lastActivity);
            if (last == 0 || Volatile.Read(ref _ended) != 0)
                return null;
            var left = last + (long)_relay._activityTimeout.TotalMilliseconds - now;
            if (left > 0)
                return TimeSpan.FromMilliseconds(left);
            Abort(ForwarderError.RequestTimedOut, new TimeoutException($"nothing moved for {_relay._activityTimeout.TotalSeconds:0.###} s"),
                Http2ErrorCode.Cancel, Http2ErrorCode.Cancel);
            return null;
        }
    }
}
