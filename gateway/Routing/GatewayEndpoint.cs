namespace FedMesh.Gateway.Routing;

/// <summary>A healthy endpoint of an exported service: the destination proxy's inbound mTLS listener.</summary>
internal sealed class GatewayEndpoint(string address, string identity, HttpMessageInvoker client)
{
    /// <summary>host:port of the destination.</summary>
    public string Address { get; } = address;

    /// <summary>The SPIFFE id the destination must present.</summary>
    public string Identity { get; } = identity;

    /// <summary>YARP destination prefix, built once.</summary>
    public string Prefix { get; } = "https://" + address;

    /// <summary>The shared client whose TLS accepts only <see cref="Identity"/>.</summary>
    public HttpMessageInvoker Client { get; } = client;
}
