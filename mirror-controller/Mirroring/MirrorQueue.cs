using System.Collections.Concurrent;
using System.Threading.Channels;

namespace FedMesh.MirrorController.Mirroring;

/// <summary>
/// The one queue of the mirroring dispatcher. Coalesced events that are already waiting are not
/// added twice; failed events come back after a backoff delay with their attempt count.
/// </summary>
internal sealed class MirrorQueue(TimeProvider time)
{
    private readonly Channel<QueuedMirrorEvent> _channel = Channel.CreateUnbounded<QueuedMirrorEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<MirrorEvent, byte> _waiting = new();

    public ChannelReader<QueuedMirrorEvent> Reader => _channel.Reader;

    public void Enqueue(MirrorEvent mirrorEvent) => Enqueue(mirrorEvent, attempt: 0);

    /// <summary>Takes the event off the waiting set as it leaves the queue, so a change seen while it runs queues it again.</summary>
    public void MarkTaken(MirrorEvent mirrorEvent)
    {
        if (mirrorEvent is CoalescedMirrorEvent)
            _waiting.TryRemove(mirrorEvent, out _);
    }

    /// <summary>Puts a failed event back after <paramref name="delay"/>, unless the controller stops first.</summary>
    public void Requeue(QueuedMirrorEvent failed, TimeSpan delay, CancellationToken cancellationToken)
    {
        _ = RequeueLaterAsync(failed, delay, cancellationToken);
    }

    private async Task RequeueLaterAsync(QueuedMirrorEvent failed, TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            Enqueue(failed.Event, failed.Attempt + 1);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Enqueue(MirrorEvent mirrorEvent, int attempt)
    {
        if (mirrorEvent is CoalescedMirrorEvent && !_waiting.TryAdd(mirrorEvent, 0))
            return;
        _channel.Writer.TryWrite(new QueuedMirrorEvent(mirrorEvent, attempt));
    }
}

/// <summary>An event with the number of times it has failed before.</summary>
internal readonly record struct QueuedMirrorEvent(MirrorEvent Event, int Attempt);
