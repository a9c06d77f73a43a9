namespace FedMesh.Core.Common;

/// <summary>
/// How a workload's proxy speaks to its app (the proxy's <c>--AppProtocol</c>, the pod annotation
/// <c>fedmesh.io/app-protocol</c>): in the caller's protocol, always HTTP/1.1, or always HTTP/2 with prior knowledge (h2c).
/// </summary>
public static class AppProtocols
{
    public const string Auto = "auto";
    public const string Http1 = "http1";
    public const string Http2 = "http2";

    public static readonly string[] All = [Auto, Http1, Http2];
}
