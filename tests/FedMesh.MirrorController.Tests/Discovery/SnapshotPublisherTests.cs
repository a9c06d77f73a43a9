using FedMesh.MirrorController.Discovery;
using Proto = FedMesh.Core.Discovery.Protocol;

namespace FedMesh.MirrorController.Tests.Discovery;

public sealed class SnapshotPublisherTests
{
    [Fact]
    public void Publish_SlowWatcher_KeepsOnlyTheNewest_OthersUnaffected()
    {
        var publisher = new SnapshotPublisher();
        using var slow = publisher.Subscribe();
        using var fast = publisher.Subscribe();

        for (var i = 1; i <= 100; i++)
        {
            Assert.True(publisher.Publish(new Proto.Snapshot { Version = i.ToString() }));
            Assert.True(fast.Reader.TryRead(out var got));
            Assert.Equal(i.ToString(), got.Version);
        }

        Assert.True(slow.Reader.TryRead(out var newest));
        Assert.Equal("100", newest.Version);
        Assert.False(slow.Reader.TryRead(out _));
    }

    [Fact]
    public void Subscribe_AfterPublish_GetsCurrentAtOnce_SameVersionNotRepublished()
    {
        var publisher = new SnapshotPublisher();
        publisher.Publish(new Proto.Snapshot { Version = "v1" });

        using var late = publisher.Subscribe();

        Assert.True(late.Reader.TryRead(out var current));
        Assert.Equal("v1", current.Version);
        Assert.False(publisher.Publish(new Proto.Snapshot { Version = "v1" }));
        Assert.False(late.Reader.TryRead(out _));
    }
}
