using FedMesh.Gateway.Configuration;

namespace FedMesh.Gateway.Tests;

public sealed class GatewayOptionsTests
{
    [Fact]
    public void Bind_AllOptions_AreRead()
    {
        var options = GatewayOptionsBinder.Bind(
            ["--Cluster", "west", "--TrustDomain", "fedmesh.local", "--Listen", "127.0.0.1:7001", "--AdminListen", "127.0.0.1:7002",
             "--Controller", "http://127.0.0.1:7000", "--TokenFile", "/tmp/token"], out var problems);

        Assert.Empty(problems);
        Assert.Equal("west", options.Cluster);
        Assert.Equal("fedmesh.local", options.TrustDomain);
        Assert.Equal("127.0.0.1:7001", options.Listen);
        Assert.Equal("127.0.0.1:7002", options.AdminListen);
        Assert.Equal("http://127.0.0.1:7000", options.Controller);
        Assert.Equal("/tmp/token", options.TokenFile);
    }

    [Fact]
    public void Validate_EverythingWrong_ListsEveryProblemInOneMessage()
    {
        var options = GatewayOptionsBinder.Bind(
            ["--Cluster", "West", "--Listen", "nowhere", "--AdminListen", "127.0.0.1:7002", "--Controller", "127.0.0.1:7000",
             "--TokenFile", "/does/not/exist", "--Colour", "red"], out var problems);

        var message = GatewayOptionsValidator.Describe(GatewayOptionsValidator.Validate(options, problems));

        Assert.Equal(
            """
            invalid gateway options (6 problems):
              - unknown option --Colour; known options are --Cluster, --TrustDomain, --Listen, --AdminListen, --Controller, --TokenFile
              - --Cluster 'West' must be a DNS label (lowercase letters, digits and '-', 1 to 63 characters, starting and ending with a letter or digit)
              - --TrustDomain is required: the federation's trust domain, e.g. --TrustDomain fedmesh.local
              - --Listen 'nowhere' is not an IP address and port, e.g. 127.0.0.1:7001
              - --Controller '127.0.0.1:7000' must be an absolute http:// or https:// URL, e.g. http://127.0.0.1:7000
              - --TokenFile '/does/not/exist' does not exist
            """.ReplaceLineEndings("\n"), message);
    }

    [Fact]
    public void Validate_BadClusterName_IsExplained()
    {
        var options = new GatewayOptions
        {
            Cluster = "West", TrustDomain = "fedmesh.local", Listen = "127.0.0.1:7001", AdminListen = "127.0.0.1:7001",
            Controller = "http://127.0.0.1:7000", TokenFile = typeof(GatewayOptionsTests).Assembly.Location,
        };

        var problems = GatewayOptionsValidator.Validate(options);

        Assert.Equal(2, problems.Count);
        Assert.Contains("--Cluster 'West' must be a DNS label", problems[0]);
        Assert.Contains("--Listen and --AdminListen are both 127.0.0.1:7001", problems[1]);
    }
}
