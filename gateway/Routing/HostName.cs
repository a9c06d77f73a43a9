namespace FedMesh.Gateway.Routing;

/// <summary>Reduces a Host header to the service part used for lookup, without allocating.</summary>
internal static class HostName
{
    /// <summary>"echo.default:7001" → "echo.default"; "echo." → "echo"; IPv6 literals keep their brackets.</summary>
    public static ReadOnlySpan<char> ServicePart(ReadOnlySpan<char> host)
    {
        var colon = host.LastIndexOf(':');
        if (colon >= 0 && host.LastIndexOf(']') < colon)
        {
            host = host[..colon];
        }
        return host.TrimEnd('.');
    }
}
