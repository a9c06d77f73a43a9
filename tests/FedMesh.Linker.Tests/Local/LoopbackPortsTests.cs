using System.Net;
using System.Net.Sockets;
using FedMesh.Linker.Local;

namespace FedMesh.Linker.Tests.Local;

public sealed class LoopbackPortsTests
{
    [Theory]
    [InlineData("32768\t60999\n", 32768, 60999)]
    [InlineData("1024 65535", 1024, 65535)]
    public void ParseRange_KernelFormat_ReadsLowAndHigh(string text, int low, int high) =>
        Assert.Equal((low, high), LoopbackPorts.ParseRange(text));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("32768")]
    [InlineData("60999 32768")]
    [InlineData("0 100")]
    [InlineData("a b")]
    public void ParseRange_NotARange_IsNull(string? text) => Assert.Null(LoopbackPorts.ParseRange(text));

    [Fact]
    public void QuietSpan_DefaultRange_IsBelowIt_AndNoneWhenTooSmall()
    {
        Assert.Equal((LoopbackPorts.QuietLow, 32768), LoopbackPorts.QuietSpan("32768\t60999"));
        Assert.Equal((LoopbackPorts.QuietLow, 30000), LoopbackPorts.QuietSpan("30000 40000"));
        Assert.Null(LoopbackPorts.QuietSpan("20500 60999")); // 500 ports below it: the kernel picks
        Assert.Null(LoopbackPorts.QuietSpan("1024 65535"));
        Assert.Null(LoopbackPorts.QuietSpan(null));
    }

    [Fact]
    public void Next_OnLinux_DistinctFreePortsBelowTheEphemeralRange_InOneRun()
    {
        // Said here rather than through QuietSpan, so that handing out the kernel's picks fails on Linux.
        int? ephemeralLow = OperatingSystem.IsLinux()
            ? int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split('\t', ' ')[0])
            : null;
        var ports = new LoopbackPorts();
        ports.Reserve(LoopbackPorts.QuietLow + 5);
        var handed = Enumerable.Range(0, 40).Select(_ => ports.Next()).ToList();

        Assert.Equal(handed.Count, handed.Distinct().Count());
        Assert.DoesNotContain(LoopbackPorts.QuietLow + 5, handed);
        foreach (var port in handed)
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start(); // free: nothing took it
        }
        if (ephemeralLow is >= LoopbackPorts.QuietLow + 1000)
        {
            Assert.All(handed, port => Assert.InRange(port, LoopbackPorts.QuietLow, Math.Min(ephemeralLow.Value, 32768) - 1));
            // One run from its random start (restarted only at the span's end): a busy port or two may be skipped.
            var steps = handed.Zip(handed.Skip(1), (a, b) => b - a).ToList();
            Assert.True(steps.Count(step => step is < 1 or > 3) <= 1, "not one run of consecutive ports: " + string.Join(", ", handed));
        }
    }

    [Fact]
    public void Next_PortInUse_IsSkipped()
    {
        var span = LoopbackPorts.QuietSpan("32768 60999")!.Value;
        // The first candidate of a seeded generator, held by a listener (another seed if something else holds it).
        for (var seed = 1; seed < 50; seed++)
        {
            var first = new Random(seed).Next(span.Low, span.High);
            TcpListener busy;
            try
            {
                busy = new TcpListener(IPAddress.Loopback, first);
                busy.Start();
            }
            catch (SocketException)
            {
                continue;
            }
            using (busy)
            {
                var port = new LoopbackPorts(new Random(seed), "32768 60999").Next();
                Assert.NotEqual(first, port);
                Assert.InRange(port, span.Low, span.High - 1);
            }
            return;
        }
        Assert.Fail("every seed's first candidate was taken");
    }

    [Fact]
    public void Next_NoQuietSpan_TheKernelPicks()
    {
        var ports = new LoopbackPorts(ephemeralRange: "1024 65535");
        Assert.Null(ports.Span);
        var handed = Enumerable.Range(0, 5).Select(_ => ports.Next()).ToList();
        Assert.Equal(5, handed.Distinct().Count());
    }
}
