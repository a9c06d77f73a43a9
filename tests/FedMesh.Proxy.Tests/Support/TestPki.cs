using FedMesh.Core.Identity;

namespace FedMesh.Proxy.Tests.Support;

/// <summary>A federation root with one issuer per cluster, as the controllers hold them.</summary>
internal sealed class TestPki : IDisposable
{
    public const string TrustDomain = "fedmesh.local";

    public TestPki()
    {
        Root = CertificateAuthority.CreateRoot(TrustDomain, TimeProvider.System);
        East = Root.CreateIntermediate("east");
        West = Root.CreateIntermediate("west");
    }

    public CertificateAuthority Root { get; }
    public CertificateAuthority East { get; }
    public CertificateAuthority West { get; }

    public static SpiffeId Id(string cluster, string serviceAccount, string ns = "default")
        => SpiffeId.Create(TrustDomain, cluster, ns, serviceAccount);

    public static SpiffeId GatewayId(string cluster) => Id(cluster, "gateway", "fedmesh-system");

    public WorkloadIdentity Issue(CertificateAuthority issuer, SpiffeId id)
        => WorkloadIdentity.FromIssuer(issuer, id, TimeSpan.FromHours(1));

    public void Dispose()
    {
        West.Dispose();
        East.Dispose();
        Root.Dispose();
    }
}
