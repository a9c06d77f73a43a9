namespace FedMesh.Kubernetes.Tests.Manifests;

/// <summary>Compares output with golden/NAME; with FEDMESH_UPDATE_GOLDEN=1 rewrites the file in the source tree instead.</summary>
internal static class GoldenFile
{
    public static void AssertMatches(string name, string actual)
    {
        var source = Path.Combine(Schema.CrdSchemaTests.FindRepoRoot(), "tests", "FedMesh.Kubernetes.Tests", "golden", name);
        if (Environment.GetEnvironmentVariable("FEDMESH_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(source, actual);
            return;
        }
        Assert.True(File.Exists(source), $"golden file {source} is missing; run the tests once with FEDMESH_UPDATE_GOLDEN=1 and review the diff");
        Assert.Equal(File.ReadAllText(source), actual);
    }
}
