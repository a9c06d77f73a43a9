using System.Threading.Channels;
using Proto = FedMesh.Core.Discovery.Protocol;

namespace FedMesh.MirrorController.Discovery;

/// <summary>
/// Holds the current snapshot and hands every new one to each watcher. A watcher's mailbox keeps only
/// the newest snapshot, so a slow watcher skips versions instead of holding anyone up.
/// </summary>
internal sealed class SnapshotPublisher
{
    private readonly Lock _gate = new();
    private readonly HashSet<Channel<Proto.Snapshot>> _watchers = [];
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Proto.Snapshot? _current;

    public Proto.Snapshot? Current => Volatile.Read(ref _current);

    /// <summary>Completes once the first snapshot is published.</summary>
    public Task FirstPublished => _first.Task;

    public int WatcherCount
    {
        get { lock (_gate) return _watchers.Count; }
    }

    /// <summary>Publishes <paramref name="snapshot"/> unless its version is the current one. True if it was new.</summary>
    public bool Publish(Proto.Snapshot snapshot)
    {
        lock (_gate)
        {
            if (_current is not null && _current.Version == snapshot.Version)
                return false;
            Volatile.Write(ref _current, snapshot);
            foreach (var watcher in _watchers)
                watcher.Writer.TryWrite(snapshot);
        }
        _first.TrySetResult();
        return true;
    }

    /// <summary>A new watcher; its mailbox already holds the current snapshot, if there is one.</summary>
    public Subscription Subscribe()
    {
        var mailbox = Channel.CreateBounded<Proto.Snapshot>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = false,
        });
        lock (_gate)
        {
            // Under the lock so no publish can slip between the current snapshot and the registration.
            if (_current is not null)
                mailbox.Writer.TryWrite(_current);
            _watchers.Add(mailbox);
        }
        return new Subscription(this, mailbox);
    }

    private void Unsubscribe(Channel<Proto.Snapshot> mailbox)
    {
        lock (_gate)
            _watchers.Remove(mailbox);
        mailbox.Writer.TryComplete();
    }

    /// <summary>One watcher's mailbox; dispose to stop receiving.</summary>
    internal sealed class Subscription(SnapshotPublisher publisher, Channel<Proto.Snapshot> mailbox) : IDisposable
    {
        public ChannelReader<Proto.Snapshot> Reader => mailbox.Reader;

        public void Dispose() => publisher.Unsubscribe(mailbox);
    }
}
