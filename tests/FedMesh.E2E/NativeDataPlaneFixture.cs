using System.Diagnostics;

namespace FedMesh.E2E;

/// <summary>
/// A copy of the fedmesh build with the native data plane (<c>deploy/dataplane</c>, NativeAOT) published next to it,
/// so the supervisor of a federation started from this copy runs its proxies and gateways as <c>fedmesh-dataplane</c>. Published
/// once for the "native-dataplane" collection. A publish that fails fails the tests, never skips them: the native
/// toolchain (clang, zlib1g-dev) is part of what they need, and <c>.ci/run</c> installs it.
/// </summary>
public sealed class NativeDataPlaneFixture : IAsyncLifetime
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(10);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "fedmesh-e2e-native-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>The copy of fedmesh's build output, with <c>fedmesh-dataplane</c> added.</summary>
    public string Bin => Path.Combine(Root, "bin");

    public string Dll => Path.Combine(Bin, "fedmesh.dll");

    public string NativeDataPlane => Path.Combine(Bin, "fedmesh-dataplane");

    public TimeSpan PublishTime { get; private set; }

    public async Task InitializeAsync()
    {
        CopyDirectory(Path.GetDirectoryName(Cli.Dll)!, Bin);
        var output = Path.Combine(Root, "publish");
        var project = Path.Combine(Cli.RepoRoot, "deploy", "dataplane", "FedMesh.DataPlane.csproj");
        var clock = Stopwatch.StartNew();
        // No build servers: they would outlive the test holding its output pipes.
        var psi = new ProcessStartInfo("dotnet", ["publish", project, "-c", "Release", "-o", output, "-nologo", "--disable-build-servers"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        var (exitCode, stdout, stderr) = await Cli.RunToEndAsync(psi, PublishTimeout, "dotnet publish deploy/dataplane");
        var log = stdout + stderr;
        PublishTime = clock.Elapsed;
        var published = Path.Combine(output, "fedmesh-dataplane");
        if (exitCode != 0 || !File.Exists(published))
            throw new InvalidOperationException(
                $"publishing the native data plane failed (dotnet publish deploy/dataplane -c Release: exit {exitCode}, {PublishTime.TotalSeconds:0} s). "
                + "NativeAOT needs the native toolchain: install clang and zlib1g-dev (apt-get install clang zlib1g-dev; .ci/run does). "
                + "What it said:\n" + Summary(log));
        File.Copy(published, NativeDataPlane);
    }

    public Task DisposeAsync()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    /// <summary>The error lines of a build log, or its last lines when none says error.</summary>
    private static string Summary(string log)
    {
        var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var errors = lines.Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)).Distinct().Take(20).ToList();
        return string.Join('\n', errors.Count > 0 ? errors : lines.TakeLast(30));
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        // File.Copy keeps the mode, so the apphost stays executable.
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }
}

/// <summary>
/// Alone, not beside other collections: the ahead-of-time compile keeps both cores busy for a minute or more,
/// which would skew the timing of the other end-to-end tests.
/// </summary>
[CollectionDefinition("native-dataplane", DisableParallelization = true)]
public sealed class NativeDataPlaneCollection : ICollectionFixture<NativeDataPlaneFixture>;
