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
    public void Pick_OnLinux_DistinctFreePortsBelowTheEphemeralRange()
    {
        // Said here rather than through QuietSpan, so that a picker that lets the kernel choose fails on Linux.
        int? ephemeralLow = OperatingSystem.IsLinux()
            ? int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split('\t', ' ')[0])
            : null;
        var taken = new HashSet<int>();
        var picked = Enumerable.Range(0, 40).Select(_ => LoopbackPorts.Pick(taken)).ToList();

        Assert.Equal(picked.Count, picked.Distinct().Count());
        Assert.Equal(picked.ToHashSet(), taken);
        foreach (var port in picked)
        {
            if (ephemeralLow is >= LoopbackPorts.QuietLow + 1000)
                Assert.InRange(port, LoopbackPorts.QuietLow, Math.Min(ephemeralLow.Value, 32768) - 1);
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start(); // free: nothing took it
        }
    }

    [Fact]
    public void Pick_PortInUse_IsSkipped()
    {
        var span = LoopbackPorts.QuietSpan(OperatingSystem.IsLinux() ? File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range") : null);
        if (span is not { } s)
            return; // the kernel picks: nothing of ours to check
        // The first candidate of a seeded generator, held by a listener (another seed if something else holds it).
        for (var seed = 1; seed < 50; seed++)
        {
            var first = new Random(seed).Next(s.Low, s.High);
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
                var port = LoopbackPorts.Pick([], new Random(seed));
                Assert.NotEqual(first, port);
                Assert.InRange(port, s.Low, s.High - 1);
            }
            return;
        }
        Assert.Fail("every seed's first candidate was taken");
    }
}
