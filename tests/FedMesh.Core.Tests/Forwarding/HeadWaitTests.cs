using System.Diagnostics;
using System.IO.Pipelines;
using FedMesh.Core.Forwarding;

namespace FedMesh.Core.Tests.Forwarding;

public sealed class HeadWaitTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task DeadlinePasses_WhileWaiting_ThePendingReadIsCancelledAndTheWaitEnds()
    {
        var pipe = new Pipe();
        using var wait = new HeadWait(pipe.Reader, CancellationToken.None);
        var started = Stopwatch.StartNew();

        Assert.True(wait.Begin(TimeSpan.FromMilliseconds(100)));
        var read = await pipe.Reader.ReadAsync().AsTask().WaitAsync(Patience);

        Assert.True(read.IsCanceled);
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(90), $"ended after {started.Elapsed}");
        Assert.False(wait.Finish());
        Assert.False(wait.Begin(TimeSpan.FromSeconds(1))); // an ended wait does not begin again
    }

    [Fact]
    public async Task RequestsKeepComing_TheTimerFindsTheDeadlineMovedOn_AndWaitsForTheRest()
    {
        var pipe = new Pipe();
        using var wait = new HeadWait(pipe.Reader, CancellationToken.None);
        var started = Stopwatch.StartNew();
        var keepAlive = TimeSpan.FromMilliseconds(300);

        // Requests every 100 ms for 900 ms: three keep-alives, none of them idle; the timer, armed once for the first
        // deadline, fires meanwhile and must find each time that the deadline moved on.
        for (var i = 0; i < 9; i++)
        {
            Assert.True(wait.Begin(keepAlive));
            var pending = pipe.Reader.ReadAsync();
            await Task.Delay(100);
            await pipe.Writer.WriteAsync(new byte[] { 1 });
            var read = await pending.AsTask().WaitAsync(Patience);
            Assert.False(read.IsCanceled, $"request {i} at {started.Elapsed}: the wait ended while requests kept coming");
            pipe.Reader.AdvanceTo(read.Buffer.End);
            Assert.True(wait.Finish());
        }

        // Then idle: it ends one keep-alive after the last request's wait began.
        var idleFrom = Stopwatch.StartNew();
        Assert.True(wait.Begin(keepAlive));
        var last = await pipe.Reader.ReadAsync().AsTask().WaitAsync(Patience);
        Assert.True(last.IsCanceled);
        Assert.True(idleFrom.Elapsed >= keepAlive - TimeSpan.FromMilliseconds(10), $"ended after {idleFrom.Elapsed}");
        Assert.False(wait.Finish());
    }

    [Fact]
    public async Task ShorterDeadline_ArmsTheTimerEarlier()
    {
        var pipe = new Pipe();
        using var wait = new HeadWait(pipe.Reader, CancellationToken.None);
        Assert.True(wait.Begin(TimeSpan.FromSeconds(30))); // the keep-alive
        var first = pipe.Reader.ReadAsync();
        await pipe.Writer.WriteAsync(new byte[] { 1 });
        var read = await first.AsTask().WaitAsync(Patience);
        pipe.Reader.AdvanceTo(read.Buffer.Start, read.Buffer.End); // half a head: wait for more
        Assert.True(wait.Finish());
        var started = Stopwatch.StartNew();

        Assert.True(wait.Begin(TimeSpan.FromMilliseconds(100))); // the head timeout's rest
        var second = await pipe.Reader.ReadAsync().AsTask().WaitAsync(Patience);

        Assert.True(second.IsCanceled);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"ended after {started.Elapsed}");
        Assert.False(wait.Finish());
    }

    [Fact]
    public async Task Closing_WhileWaiting_EndsAtOnce_WhileARequestIsUnderWay_EndsTheNextWait()
    {
        var pipe = new Pipe();
        using var closing = new CancellationTokenSource();
        using var wait = new HeadWait(pipe.Reader, closing.Token);
        Assert.True(wait.Begin(TimeSpan.FromSeconds(30)));
        var pending = pipe.Reader.ReadAsync();

        closing.Cancel();

        Assert.True((await pending.AsTask().WaitAsync(Patience)).IsCanceled);
        Assert.False(wait.Finish());

        var other = new Pipe();
        using var stopping = new CancellationTokenSource();
        using var busy = new HeadWait(other.Reader, stopping.Token);
        Assert.True(busy.Begin(TimeSpan.FromSeconds(30)));
        var request = other.Reader.ReadAsync();
        await other.Writer.WriteAsync(new byte[] { 1 });
        var head = await request.AsTask().WaitAsync(Patience);
        Assert.True(busy.Finish());
        other.Reader.AdvanceTo(head.Buffer.End);

        stopping.Cancel(); // the request is under way: its reads are left alone
        await other.Writer.WriteAsync(new byte[] { 2 });
        var body = await other.Reader.ReadAsync().AsTask().WaitAsync(Patience);
        Assert.False(body.IsCanceled);
        other.Reader.AdvanceTo(body.Buffer.End);
        Assert.False(busy.Begin(TimeSpan.FromSeconds(30))); // and no next request is waited for
    }

    [Fact]
    public async Task Disposed_NeitherTheDeadlineNorClosingCancelsAnotherReader()
    {
        var pipe = new Pipe();
        using var closing = new CancellationTokenSource();
        var wait = new HeadWait(pipe.Reader, closing.Token);
        Assert.True(wait.Begin(TimeSpan.FromMilliseconds(50)));
        var read = pipe.Reader.ReadAsync();
        await pipe.Writer.WriteAsync(new byte[] { 1 });
        var got = await read.AsTask().WaitAsync(Patience);
        Assert.True(wait.Finish());
        pipe.Reader.AdvanceTo(got.Buffer.Start); // handed on with nothing consumed (to Kestrel)

        wait.Dispose();
        wait.Dispose();
        closing.Cancel();
        await Task.Delay(150); // past the deadline the timer had been armed for

        var next = await pipe.Reader.ReadAsync().AsTask().WaitAsync(Patience);
        Assert.False(next.IsCanceled);
        Assert.Equal(1, next.Buffer.Length);
    }
}
