using System.Diagnostics;
using System.Text.Json;
using Xunit.Abstractions;

namespace FedMesh.E2E;

/// <summary>up --detach then down, in a home of its own: nothing is left running.</summary>
[Collection("federation")]
public sealed class LifecycleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Down_AfterUpDetach_LeavesNothingRunning()
    {
        var home = Path.Combine(Path.GetTempPath(), "fedmesh-e2e-life-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var clock = Stopwatch.StartNew();
            var up = await Cli.RunAsync(home, TimeSpan.FromMinutes(3), "up", "--detach");
            Assert.True(up.ExitCode == 0, up.ToString());
            output.WriteLine($"up --detach: ready after {clock.Elapsed.TotalSeconds:0.0} s");
            Assert.Contains("Try next", up.Stdout);

            var status = await Cli.RunAsync(home, TimeSpan.FromMinutes(1), "status", "-o", "json");
            var pids = JsonDocument.Parse(status.Stdout).RootElement.GetProperty("clusters").EnumerateArray()
                .SelectMany(c => c.GetProperty("parts").EnumerateArray()).Select(p => p.GetProperty("pid").GetInt32()).ToList();
            var supervisor = JsonDocument.Parse(status.Stdout).RootElement.GetProperty("supervisorPid").GetInt32();
            Assert.Equal(8, pids.Count);
            Assert.All(pids, pid => Assert.True(pid > 0));
            foreach (var pid in pids) output.WriteLine($"pid {pid}: RSS {Rss(pid)} KiB");

            var down = await Cli.RunAsync(home, TimeSpan.FromMinutes(1), "down");
            Assert.True(down.ExitCode == 0, down.ToString());
            foreach (var pid in pids.Append(supervisor)) Assert.False(Alive(pid), $"pid {pid} still running after down");

            var after = await Cli.RunAsync(home, TimeSpan.FromMinutes(1), "status", "-o", "json");
            Assert.All(JsonDocument.Parse(after.Stdout).RootElement.GetProperty("clusters").EnumerateArray()
                .SelectMany(c => c.GetProperty("parts").EnumerateArray()), p => Assert.Equal("stopped", p.GetProperty("status").GetString()));
        }
        finally
        {
            await Cli.RunAsync(home, TimeSpan.FromMinutes(1), "down");
            try { Directory.Delete(home, recursive: true); } catch (IOException) { }
        }
    }

    private static bool Alive(int pid) => File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].TrimStart().StartsWith('Z');

    private static string Rss(int pid) =>
        File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:"))?.Split(':')[1].Trim() ?? "?";
}
