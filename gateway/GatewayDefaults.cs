namespace FedMesh.Gateway;

/// <summary>Timeouts and limits of the gateway.</summary>
internal static class GatewayDefaults
{
    /// <summary>Service account of every cluster's gateway identity.</summary>
    public const string ServiceAccount = "gateway";

    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long a replaced upstream client lives on for requests still using it.</summary>
    public static readonly TimeSpan RetiredClientGrace = TimeSpan.FromMinutes(2);

    /// <summary>Longest silence on an upstream request before it fails with 504.</summary>
    public static readonly TimeSpan UpstreamActivityTimeout = TimeSpan.FromSeconds(100);

    /// <summary>How long shutdown waits for in-flight requests.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(10);
}
