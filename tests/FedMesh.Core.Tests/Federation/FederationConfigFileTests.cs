using FedMesh.Core.Federation;
using FedMesh.Core.Yaml;

namespace FedMesh.Core.Tests.Federation;

public sealed class FederationConfigFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fedmesh-config-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Save_ThenLoad_RoundTripsAndLeavesNoTempFile()
    {
        var config = new FederationConfig
        {
            Clusters =
            [
                new ClusterConfig { Name = "east", Controller = new ControllerPorts { GrpcPort = 7001 }, Workloads = [new WorkloadConfig { Name = "echo", Service = "echo", Instances = [new InstancePorts { Name = "echo-0", AppPort = 9001 }] }] },
                new ClusterConfig { Name = "west", Type = "kubernetes", Context = "kind-west" },
            ],
        };
        var path = Path.Combine(_dir, "config.yaml");
        FederationConfigFile.Save(config, path);
        var loaded = FederationConfigFile.Load(path);
        Assert.Equal(7001, loaded.Find("east")!.Controller.GrpcPort);
        Assert.Equal(9001, loaded.Clusters[0].Workloads[0].Instances[0].AppPort);
        Assert.Equal("kind-west", loaded.Find("west")!.Context);
        Assert.Equal(["config.yaml"], Directory.GetFiles(_dir).Select(f => Path.GetFileName(f)).ToArray());
    }

    [Fact]
    public void Load_UnknownFieldAndBadRules_ReportsFileLineColumn()
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "config.yaml");
        File.WriteAllText(path, "apiVersion: fedmesh.io/v1alpha1\nkind: Federation\nclusters:\n  - name: east\n    sotre: x\n  - name: east\n    type: cloud\n");
        var e = Assert.Throws<ResourceDecodeException>(() => FederationConfigFile.Load(path));
        Assert.Contains(e.Errors, x => x.Line == 5 && x.Column == 5 && x.Message.Contains("unknown field \"sotre\"; did you mean \"store\"?"));
        Assert.StartsWith(path + ":5:5: ", e.Message);
    }

    [Fact]
    public void Load_DuplicateAndInvalidClusters_ReportsEachAtItsField()
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "config.yaml");
        File.WriteAllText(path, "clusters:\n  - name: east\n  - name: east\n    type: cloud\n");
        var e = Assert.Throws<ResourceDecodeException>(() => FederationConfigFile.Load(path));
        Assert.Equal(2, e.Errors.Count);
        Assert.Equal((3, 5), (e.Errors[0].Line, e.Errors[0].Column));
        Assert.Contains("clusters[1].name: \"east\" is already clusters[0]", e.Errors[0].Message);
        Assert.Equal((4, 5), (e.Errors[1].Line, e.Errors[1].Column));
    }

    [Fact]
    public void Load_MissingFile_SaysHowToCreateOne()
        => Assert.Contains("fedmesh up", Assert.Throws<FileNotFoundException>(() => FederationConfigFile.Load(Path.Combine(_dir, "none.yaml"))).Message);
}
