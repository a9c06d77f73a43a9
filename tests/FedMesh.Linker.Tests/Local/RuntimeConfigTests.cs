using System.Text.Json;

namespace FedMesh.Linker.Tests.Local;

/// <summary>The runtime settings fedmesh's processes (CLI, supervisor, controllers) start with, from its runtime config.</summary>
public sealed class RuntimeConfigTests
{
    [Fact]
    public void ThreadPoolWorkers_SleepWithoutSpinning()
    {
        // The build copies the referenced fedmesh's runtime config beside the tests.
        var path = Path.Combine(AppContext.BaseDirectory, "fedmesh.runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(path));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.Equal(0, properties.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
    }
}
