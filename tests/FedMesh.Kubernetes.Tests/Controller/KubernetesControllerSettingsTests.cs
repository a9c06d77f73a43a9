using FedMesh.MirrorController.Hosting;

namespace FedMesh.Kubernetes.Tests.Controller;

public sealed class KubernetesControllerSettingsTests
{
    [Fact]
    public void Requested_StoreKubernetes_IsTrueOnlyForKubernetes()
    {
        Assert.True(KubernetesControllerSettings.Requested(Env(("FEDMESH_STORE", "kubernetes"))));
        Assert.False(KubernetesControllerSettings.Requested(Env(("FEDMESH_STORE", "local"))));
        Assert.False(KubernetesControllerSettings.Requested(Env()));
    }

    [Fact]
    public void Read_InstallEnvironment_GivesNamespaceTrustDomainAndIssuer()
    {
        var issuer = Directory.CreateTempSubdirectory("fedmesh-issuer-").FullName;
        try
        {
            var (settings, errors) = KubernetesControllerSettings.Read(Env(("FEDMESH_NAMESPACE", "fedmesh-system"), ("FEDMESH_TRUST_DOMAIN", "example.org"), ("FEDMESH_ISSUER_DIR", issuer)));

            Assert.Empty(errors);
            Assert.Equal(new KubernetesControllerSettings("fedmesh-system", "example.org", issuer), settings);
        }
        finally
        {
            Directory.Delete(issuer);
        }
    }

    [Fact]
    public void Read_WrongNamespaceAndMissingIssuer_ListsBothProblems()
    {
        var (settings, errors) = KubernetesControllerSettings.Read(Env(("FEDMESH_NAMESPACE", "default"), ("FEDMESH_ISSUER_DIR", "/nonexistent/issuer")));

        Assert.Null(settings);
        Assert.Collection(errors,
            e => Assert.Contains("FEDMESH_NAMESPACE is 'default', but Links and their credentials live in 'fedmesh-system'", e),
            e => Assert.Contains("FEDMESH_ISSUER_DIR '/nonexistent/issuer' does not exist", e));
    }

    private static Func<string, string?> Env(params (string Name, string Value)[] values) =>
        name => values.FirstOrDefault(v => v.Name == name).Value;
}
