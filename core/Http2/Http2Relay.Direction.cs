using System.Buffers;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Http2;

public abstract partial class Http2Relay
{
    /// <summary>
    /// A header block or a piece of data waiting to go on; data in an array from the shared pool. <paramref name="Credited"/>:
    /// its window was given back already (it is going again, for another attempt).
    /// </summary>
    private readonly record struct Item(Http2HeaderList? Fields, byte[]? Data, int Length, bool EndStream, bool Credited = false);

    private sealed partial class RelayedStream
    {
        /// <summary>
        /// One direction of a relayed stream. What arrives is sent on at once, on the arriving thread, while nothing is
        /// queued, the destination's connection has no other writer and its windows have room (no copy, no thread
        /// handed over); otherwise it is copied and queued, and a pump sends the queue in order, waiting for windows as
        /// it must. Either way the window of the side it came from is given back once it has gone on. A replayable
        /// request's direction keeps what it sent (<see cref="KeepForReplay"/>) until its response is accepted, and a
        /// new attempt sends it all again (<see cref="Restart"/>).
        /// </summary>
        private sealed class Direction
        {
            private readonly RelayedStream _owner;
            private readonly LinkedList<Item> _queue = new();
            private readonly ForwarderError _failure;
            private Http2Stream? _to;
            private bool _pumping; // a pump drains the queue; true too while the destination is not open
            private bool _done;
            private int _generation; // a new attempt's destination: a pump of an earlier one stops
            private List<Item>? _replay;
            private object? _inFlight; // what a pump is sending (its data or fields), which a replay list let go of meanwhile must not return

            public Direction(RelayedStream owner, Http2Stream? from, Http2Stream? to)
            {
                _owner = owner;
                From = from;
                _to = to;
                _pumping = to is null;
                _failure = to is null ? ForwarderError.RequestBodyDestination : ForwarderError.ResponseBodyClient;
            }

            /// <summary>The side the data comes from, whose window is given back as it goes on.</summary>
            public Http2Stream? From { get; set; }

            /// <summary>From now on what is sent is kept to be sent again, until <see cref="ReplayDone"/>.</summary>
            public void KeepForReplay()
            {
                lock (_queue)
                    _replay ??= [];
            }

            public void Add(Http2HeaderList fields, bool endStream)
            {
                lock (_queue)
                {
                    if (_done)
                        return;
                    if (Idle && _to!.TrySendHeadersNow(fields, endStream))
                    {
                        Sent(0, endStream);
                        return;
                    }
                    _queue.AddLast(new Item(Copy(fields), null, 0, endStream));
                    StartPump();
                }
            }

            public void Add(ReadOnlySequence<byte> data, bool endStream)
            {
                var length = (int)data.Length;
                lock (_queue)
                {
                    if (_done)
                    {
                        From?.Consumed(length);
                        return;
                    }
                    if (Idle && data.IsSingleSegment && _to!.TrySendDataNow(data.FirstSpan, endStream))
                    {
                        Sent(length, endStream);
                        return;
                    }
                    byte[]? copy = null;
                    if (length > 0)
                    {
                        copy = ArrayPool<byte>.Shared.Rent(length);
                        data.CopyTo(copy);
                    }
                    _queue.AddLast(new Item(null, copy, length, endStream));
                    StartPump();
                }
            }

            /// <summary>Nothing queued or under way, and nothing to keep: what arrives may go at once.</summary>
            private bool Idle => !_pumping && _queue.Count == 0 && _replay is null;

            /// <summary>The destination is open: what waited for it goes now.</summary>
            public void Open(Http2Stream to)
            {
                lock (_queue)
                {
                    _to = to;
                    if (_queue.Count == 0)
                    {
                        _pumping = false;
                        return;
                    }
                }
                _ = PumpAsync();
            }

            /// <summary>
            /// A new attempt: what was sent goes again, ahead of what waits, once the new destination is open
            /// (<see cref="Open"/>). Its windows were given back when it first went; they are not given back again.
            /// </summary>
            public void Restart()
            {
                lock (_queue)
                {
                    _generation++;
                    _to = null;
                    _pumping = true;
                    if (_replay is not null)
                    {
                        for (var i = _replay.Count - 1; i >= 0; i--)
                            _queue.AddFirst(_replay[i]);
                        _replay.Clear();
                    }
                    _done = false; // the request side's end is counted again by the new attempt (RequestSent)
                }
            }

            /// <summary>The response was accepted: nothing more is kept for another attempt.</summary>
            public void ReplayDone()
            {
                lock (_queue)
                {
                    if (_replay is null)
                        return;
                    foreach (var item in _replay)
                    {
                        if (!ReferenceEquals(Payload(item), _inFlight))
                            Return(item); // the one in flight is returned by its pump
                    }
                    _replay = null;
                }
            }

            /// <summary>The exchange has ended: what is queued or kept is dropped, its windows given back.</summary>
            public void Drop()
            {
                lock (_queue)
                {
                    _done = true;
                    foreach (var item in _queue)
                    {
                        if (!item.Credited && item.Length > 0)
                            From?.Consumed(item.Length);
                        if (_replay is null || !_replay.Contains(item))
                            Return(item);
                    }
                    _queue.Clear();
                    foreach (var item in _replay ?? [])
                    {
                        if (!ReferenceEquals(Payload(item), _inFlight))
                            Return(item);
                    }
                    _replay = null;
                }
            }

            private void StartPump()
            {
                if (_pumping)
                    return;
                _pumping = true;
                _ = PumpAsync();
            }

            private async Task PumpAsync()
            {
                int generation;
                lock (_queue)
                    generation = _generation;
                try
                {
                    while (true)
                    {
                        Item item;
                        Http2Stream to;
                        lock (_queue)
                        {
                            if (generation != _generation)
                                return; // a new attempt: its own pump takes over
                            if (_done || _queue.Count == 0)
                            {
                                _pumping = false;
                                return;
                            }
                            item = _queue.First!.Value;
                            _queue.RemoveFirst();
                            to = _to!;
                            _inFlight = Payload(item);
                            if (_replay is not null)
                            {
                                // Kept for another attempt from the moment it leaves the queue, and its window given back once.
                                if (!item.Credited && item.Length > 0)
                                    From?.Consumed(item.Length);
                                item = item with { Credited = true };
                                _replay.Add(item);
                            }
                        }
                        if (item.Fields is not null)
                            await to.SendHeadersAsync(item.Fields, item.EndStream, _owner._abort.Token).ConfigureAwait(false);
                        else
                            await to.SendDataAsync(item.Data is null ? ReadOnlyMemory<byte>.Empty : item.Data.AsMemory(0, item.Length), item.EndStream,
                                _owner._abort.Token).ConfigureAwait(false);
                        lock (_queue)
                        {
                            _inFlight = null;
                            if (generation != _generation)
                                return;
                            if (_replay is null)
                                Return(item); // not kept (or let go of while it was being sent)
                            Sent(item.Credited ? 0 : item.Length, item.EndStream);
                        }
                    }
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    if (IsStale(generation))
                        return; // the attempt it was for was given up meanwhile
                    var error = _owner._abort.IsCancellationRequested ? ForwarderError.RequestCanceled : _failure;
                    if (ReferenceEquals(this, _owner._toUpstream))
                        _owner.Failed(generation, error, e); // the request's side: another attempt may take it (its generation is its attempt)
                    else
                        _owner.Abort(error, e, resetCaller: Http2ErrorCode.Cancel, resetUpstream: Http2ErrorCode.Cancel);
                }
            }

            private bool IsStale(int generation)
            {
                lock (_queue)
                    return generation != _generation;
            }

            /// <summary>Something went on: its window back to its sender; at the stream's end, this direction is done.</summary>
            private void Sent(int credit, bool endStream)
            {
                if (credit > 0)
                    From?.Consumed(credit);
                _owner.Touch();
                if (!endStream)
                    return;
                _done = true;
                if (ReferenceEquals(this, _owner._toCaller))
                {
                    _owner._responseEnded = true;
                    _owner.DirectionDone();
                }
                else
                    _owner.RequestSent();
            }

            /// <summary>What an item holds that is given back when it is done with: its data or its fields (null for none).</summary>
            private static object? Payload(Item item) => (object?)item.Data ?? item.Fields;

            private static void Return(Item item)
            {
                if (item.Data is not null)
                    ArrayPool<byte>.Shared.Return(item.Data);
                else if (item.Fields is not null)
                    Http2HeaderList.Return(item.Fields);
            }
        }
    }
}
