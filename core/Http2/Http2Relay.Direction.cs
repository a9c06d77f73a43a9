using System.Buffers;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Http2;

public abstract partial class Http2Relay
{
    /// <summary>A header block or a piece of data waiting to go on; data in an array from the shared pool.</summary>
    private readonly record struct Item(Http2HeaderList? Fields, byte[]? Data, int Length, bool EndStream);

    private sealed partial class RelayedStream
    {
        /// <summary>
        /// One direction of a relayed stream. What arrives is sent on at once, on the arriving thread, while nothing is
        /// queued, the destination's connection has no other writer and its windows have room (no copy, no thread
        /// handed over); otherwise it is copied and queued, and a pump sends the queue in order, waiting for windows as
        /// it must. Either way the window of the side it came from is given back once it has gone on.
        /// </summary>
        private sealed class Direction
        {
            private readonly RelayedStream _owner;
            private readonly Queue<Item> _queue = new();
            private readonly ForwarderError _failure;
            private Http2Stream? _to;
            private bool _pumping; // a pump drains the queue; true too while the destination is not open
            private bool _done;

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

            public void Add(Http2HeaderList fields, bool endStream)
            {
                lock (_queue)
                {
                    if (_done)
                        return;
                    if (!_pumping && _queue.Count == 0 && _to!.TrySendHeadersNow(fields, endStream))
                    {
                        Sent(0, endStream);
                        return;
                    }
                    _queue.Enqueue(new Item(Copy(fields), null, 0, endStream));
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
                    if (!_pumping && _queue.Count == 0 && data.IsSingleSegment && _to!.TrySendDataNow(data.FirstSpan, endStream))
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
                    _queue.Enqueue(new Item(null, copy, length, endStream));
                    StartPump();
                }
            }

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

            /// <summary>The exchange has ended: what is queued is dropped, its windows given back.</summary>
            public void Drop()
            {
                lock (_queue)
                {
                    _done = true;
                    while (_queue.TryDequeue(out var item))
                    {
                        if (item.Data is null)
                            continue;
                        From?.Consumed(item.Length);
                        ArrayPool<byte>.Shared.Return(item.Data);
                    }
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
                try
                {
                    while (true)
                    {
                        Item item;
                        lock (_queue)
                        {
                            if (_done || !_queue.TryDequeue(out item))
                            {
                                _pumping = false;
                                return;
                            }
                        }
                        try
                        {
                            if (item.Fields is not null)
                                await _to!.SendHeadersAsync(item.Fields, item.EndStream, _owner._abort.Token).ConfigureAwait(false);
                            else
                                await _to!.SendDataAsync(item.Data is null ? ReadOnlyMemory<byte>.Empty : item.Data.AsMemory(0, item.Length), item.EndStream,
                                    _owner._abort.Token).ConfigureAwait(false);
                        }
                        finally
                        {
                            if (item.Data is not null)
                                ArrayPool<byte>.Shared.Return(item.Data);
                        }
                        lock (_queue)
                            Sent(item.Length, item.EndStream);
                    }
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    _owner.Abort(_owner._abort.IsCancellationRequested ? ForwarderError.RequestCanceled : _failure, e,
                        resetCaller: Http2ErrorCode.Cancel, resetUpstream: Http2ErrorCode.Cancel);
                }
            }

            /// <summary>Something went on: its window back to its sender; at the stream's end, this direction is done.</summary>
            private void Sent(int length, bool endStream)
            {
                if (length > 0)
                    From?.Consumed(length);
                _owner.Touch();
                if (!endStream)
                    return;
                _done = true;
                if (ReferenceEquals(this, _owner._toCaller))
                    _owner._responseEnded = true;
                _owner.DirectionDone();
            }
        }
    }
}
