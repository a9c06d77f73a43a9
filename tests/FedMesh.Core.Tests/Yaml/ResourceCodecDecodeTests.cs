using FedMesh.Core.Resources;
using FedMesh.Core.Yaml;

namespace FedMesh.Core.Tests.Yaml;

public sealed class ResourceCodecDecodeTests
{
    private static ResourceDecodeException DecodeFails(string yaml, string file = "policy.yaml")
        => Assert.Throws<ResourceDecodeException>(() => ResourceCodec.Decode(yaml, file));

    private static void AssertError(ResourceDecodeException e, int line, int column, string contains)
        => Assert.Contains(e.Errors, x => x.Line == line && x.Column == column && x.Message.Contains(contains, StringComparison.Ordinal));

    [Fact]
    public void Decode_MultipleDocuments_ReturnsEachKindTyped()
    {
        var yaml = """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              labels:
                fedmesh.io/exported: "true"
            spec:
              ports:
                - port: 8080
            ---
            apiVersion: fedmesh.io/v1alpha1
            kind: TrafficSplit
            metadata:
              name: web-split
            spec:
              service: web
              backends:
                - service: web
                  weight: 90
                - service: web
                  cluster: west
                  weight: 10
            ---
            # only a comment
            """;
        var resources = ResourceCodec.Decode(yaml, "two.yaml");
        Assert.Equal(2, resources.Count);
        var service = Assert.IsType<Service>(resources[0]);
        Assert.Equal(8080, service.Spec.Ports[0].Port);
        Assert.True(WellKnown.IsExported(service));
        var split = Assert.IsType<TrafficSplit>(resources[1]);
        Assert.Equal("west", split.Spec.Backends[1].Cluster);
        Assert.Equal(10, split.Spec.Backends[1].Weight);
    }

    [Fact]
    public void Decode_WeightOutOfRange_ReportsFieldLineAndColumn()
    {
        var yaml = """
            apiVersion: fedmesh.io/v1alpha1
            kind: TrafficSplit
            metadata:
              name: web
            spec:
              service: web
              backends:
                - service: web
                  weight: 50
                - service: web
                  cluster: west
                  weight: 120
            """;
        var e = DecodeFails(yaml);
        var error = Assert.Single(e.Errors);
        Assert.Equal(new ResourceDecodeError("policy.yaml", 12, 7, "spec.backends[1].weight: must be between 0 and 100 (got 120)"), error);
        Assert.Equal("policy.yaml:12:7: spec.backends[1].weight: must be between 0 and 100 (got 120)", e.Message);
    }

    [Fact]
    public void Decode_BrokenYaml_ReportsSyntaxErrorPosition()
    {
        var yaml = "apiVersion: v1\nkind: Service\nmetadata:\n  name: [web\n";
        var e = DecodeFails(yaml, "broken.yaml");
        var error = Assert.Single(e.Errors);
        Assert.Equal("broken.yaml", error.File);
        Assert.StartsWith("invalid YAML", error.Message);
        Assert.True(error.Line >= 4, e.Message);
    }

    [Fact]
    public void Decode_UnknownField_ReportsKeyPositionWithHint()
    {
        var yaml = "apiVersion: fedmesh.io/v1alpha1\nkind: Link\nmetadata:\n  name: west\nspec:\n  targetCluster: west\n  gatewayAdress: 127.0.0.1:4143\n";
        var e = DecodeFails(yaml);
        AssertError(e, 7, 3, "spec.gatewayAdress: unknown field \"gatewayAdress\"; did you mean \"gatewayAddress\"?");
    }

    [Fact]
    public void Decode_DuplicateKey_ReportsSecondKeyAndFirstPosition()
    {
        var yaml = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  name: api\nspec: {}\n";
        var e = DecodeFails(yaml);
        var error = Assert.Single(e.Errors);
        Assert.Equal((5, 3), (error.Line, error.Column));
        Assert.Contains("duplicate key \"name\" (first at line 4, column 3)", error.Message);
    }

    [Fact]
    public void Decode_WrongTypes_ReportsEveryValuePosition()
    {
        var yaml = """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              labels: [a, b]
            spec:
              ports:
                - port: "8080"
                - port: http
            """;
        var e = DecodeFails(yaml);
        Assert.Equal(3, e.Errors.Count);
        AssertError(e, 5, 11, "metadata.labels: expected a mapping, got a list");
        AssertError(e, 8, 13, "spec.ports[0].port: expected an integer, got the string \"8080\"; remove the quotes");
        AssertError(e, 9, 13, "spec.ports[1].port: expected an integer, got \"http\"");
    }

    [Fact]
    public void Decode_MissingRequiredField_ReportsParentPosition()
    {
        var yaml = "apiVersion: fedmesh.io/v1alpha1\nkind: FailoverPolicy\nmetadata:\n  name: web\nspec:\n  targets:\n    - cluster: west\n";
        var e = DecodeFails(yaml);
        var error = Assert.Single(e.Errors);
        Assert.Equal((5, 1), (error.Line, error.Column));
        Assert.Equal("spec.service: is required", error.Message);
    }

    [Fact]
    public void Decode_UnknownKindAndApiVersion_ReportsEachDocument()
    {
        var yaml = "apiVersion: v1\nkind: Deployment\nmetadata:\n  name: a\n---\napiVersion: fedmesh.io/v2\nkind: Link\nmetadata:\n  name: b\n";
        var e = DecodeFails(yaml);
        Assert.Equal(2, e.Errors.Count);
        AssertError(e, 2, 7, "kind: unknown kind \"Deployment\"; use one of Service, Endpoints, Link, TrafficSplit, FailoverPolicy");
        AssertError(e, 6, 13, "apiVersion: kind Link uses apiVersion \"fedmesh.io/v1alpha1\", not \"fedmesh.io/v2\"");
    }

    [Fact]
    public void Decode_ErrorsInSeveralDocuments_CollectsAllInFileOrder()
    {
        var yaml = "apiVersion: v1\nkind: Service\nmetadata:\n  name: Web\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: ok\nspec:\n  ports:\n    - port: 70000\n";
        var e = DecodeFails(yaml);
        Assert.Equal(2, e.Errors.Count);
        Assert.Equal(4, e.Errors[0].Line);
        Assert.StartsWith("metadata.name: \"Web\" is not a valid name", e.Errors[0].Message);
        Assert.Equal((12, 7), (e.Errors[1].Line, e.Errors[1].Column));
        Assert.Equal("spec.ports[0].port: must be between 1 and 65535 (got 70000)", e.Errors[1].Message);
    }

    [Fact]
    public void Decode_MissingKind_ReportsDocumentStart()
    {
        var e = DecodeFails("apiVersion: v1\nmetadata:\n  name: a\n");
        AssertError(e, 1, 1, "kind: is required");
    }

    [Fact]
    public void Decode_NullForRequiredMapping_ReportsTypeError()
    {
        var e = DecodeFails("apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n");
        AssertError(e, 5, 6, "spec: must not be null");
    }

    [Fact]
    public void Decode_ComputedPropertyName_IsUnknownField()
    {
        var e = DecodeFails("apiVersion: v1\nkind: Service\nname: a\nmetadata:\n  name: a\n");
        AssertError(e, 3, 1, "name: unknown field \"name\"");
    }
}
