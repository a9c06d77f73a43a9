namespace FedMesh.Core.Kubernetes;

/// <summary>What <see cref="InstallManifests"/> renders for one cluster; defaults from <see cref="InstallDefaults"/>.</summary>
public sealed class InstallOptions
{
    /// <summary>The cluster's name in the federation.</summary>
    public required string Cluster { get; init; }

    public string TrustDomain { get; init; } = "fedmesh.local";

    /// <summary>Image of the fedmesh binary (controller, gateway and proxy images are built from one Dockerfile stage each).</summary>
    public string ImageRepository { get; init; } = InstallDefaults.ImageRepository;
    public string ImageTag { get; init; } = InstallDefaults.ImageTag;

    /// <summary>Port the gateway's LoadBalancer Service exposes to other clusters.</summary>
    public int GatewayPort { get; init; } = InstallDefaults.GatewayPort;

    /// <summary>The gateway's busy-poll window in microseconds (<see cref="Transport.BusyPolling"/>); 0, the default, is off.</summary>
    public int GatewayBusyPollMicroseconds { get; init; }

    /// <summary>The cluster's issuer (intermediate CA) and the federation's trust anchor, PEM.</summary>
    public required string IssuerCertificatePem { get; init; }
    public required string IssuerKeyPem { get; init; }
    public required string TrustAnchorPem { get; init; }

    /// <summary>Every broken setting, in one pass.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrEmpty(Cluster)) errors.Add("cluster: is required");
        if (GatewayPort is < 1 or > 65535) errors.Add($"gateway port must be between 1 and 65535 (got {GatewayPort})");
        if (!Transport.BusyPolling.IsWindow(GatewayBusyPollMicroseconds))
            errors.Add($"gateway busy-poll window {GatewayBusyPollMicroseconds} µs: {Transport.BusyPolling.Rule}");
        if (string.IsNullOrEmpty(ImageRepository) || string.IsNullOrEmpty(ImageTag)) errors.Add("image repository and tag are required");
        if (!IssuerCertificatePem.Contains("BEGIN CERTIFICATE", StringComparison.Ordinal)) errors.Add("issuer certificate: not a PEM certificate");
        if (!IssuerKeyPem.Contains("PRIVATE KEY", StringComparison.Ordinal)) errors.Add("issuer key: not a PEM private key");
        if (!TrustAnchorPem.Contains("BEGIN CERTIFICATE", StringComparison.Ordinal)) errors.Add("trust anchor: not a PEM certificate");
        return errors;
    }
}

/// <summary>Names, ports and defaults shared by install, inject and link.</summary>
public static class InstallDefaults
{
    public const string ImageRepository = "ghcr.io/fedmesh";
    public const string ImageTag = "0.1.0";
    public const int GatewayPort = 4143;
    public const int GatewayContainerPort = 4143;
    public const int GatewayAdminPort = 4191;
    public const int ControllerGrpcPort = 8086;
    public const int ControllerAdminPort = 9996;

    /// <summary>The injected proxy's plain-HTTP outbound listener, on loopback: the init container redirects the pod's outbound TCP here.</summary>
    public const int ProxyOutboundPort = 15001;

    /// <summary>The injected proxy's mTLS inbound listener, on every interface: peers and gateways dial it.</summary>
    public const int ProxyInboundPort = 15006;

    /// <summary>The injected proxy's admin listener (<c>/live</c>, <c>/ready</c>, <c>/metrics</c>), on every interface for the kubelet's probes.</summary>
    public const int ProxyAdminPort = 15021;

    /// <summary>The uid the proxy runs as (the proxy image's USER); its own traffic is not redirected.</summary>
    public const long ProxyUid = 2102;
    public const string ControllerName = "fedmesh-controller";
    public const string GatewayName = "fedmesh-gateway";

    /// <summary>The gateway's ServiceAccount: its name is the <c>sa</c> of the gateway's SPIFFE id, which peers check.</summary>
    public const string GatewayServiceAccount = "gateway";

    /// <summary>Audience of the projected service-account tokens pods present to the controller's Identity service.</summary>
    public const string TokenAudience = "fedmesh";

    /// <summary>Lifetime asked for the projected token; the kubelet rotates it at 80 % of this.</summary>
    public const int TokenExpirationSeconds = 3600;

    /// <summary>The projected token volume, its mount directory and the file passed as <c>--TokenFile</c>.</summary>
    public const string TokenVolume = "fedmesh-token";

    /// <inheritdoc cref="TokenVolume"/>
    public const string TokenDirectory = "/var/run/secrets/fedmesh.io/serviceaccount";

    /// <inheritdoc cref="TokenVolume"/>
    public const string TokenFile = TokenDirectory + "/token";

    /// <summary>The controller's gRPC URL inside the cluster (discovery and identity).</summary>
    public static readonly string ControllerUrl = $"http://{ControllerName}.{Resources.WellKnown.SystemNamespace}.svc:{ControllerGrpcPort}";
    public const string IssuerSecret = "fedmesh-issuer";
    public const string PartOfLabel = "app.kubernetes.io/part-of";
}
