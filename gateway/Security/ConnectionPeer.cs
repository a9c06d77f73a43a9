using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FedMesh.Core.Identity;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FedMesh.Gateway.Security;

/// <summary>
/// The verified identity of the peer on one mTLS connection, established once during the handshake
/// (where the presented intermediates are visible, or on a resumed session the leaf alone, chained with
/// learned issuers) and read by every request on the connection.
/// </summary>
internal sealed class ConnectionPeer
{
    private static readonly object ItemKey = new();
    private readonly IReadOnlyList<X509Certificate2> _anchors;
    private readonly PeerIntermediates _learned;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _remote;

    /// <param name="learned">Chains a peer that shows only its leaf (a resumed session); taught by every peer that validates.</param>
    public ConnectionPeer(IReadOnlyList<X509Certificate2> anchors, PeerIntermediates learned, TimeProvider time, ILogger logger, string remote)
    {
        _anchors = anchors;
        _learned = learned;
        _time = time;
        _logger = logger;
        _remote = remote;
    }

    /// <summary>The peer's SPIFFE id; null when its certificate was refused.</summary>
    public SpiffeId? Id { get; private set; }

    /// <summary><see cref="Id"/> as text, computed once for the caller header.</summary>
    public string IdText { get; private set; } = "";

    /// <summary>Why the certificate was refused, or null.</summary>
    public string? Error { get; private set; }

    /// <summary>The UTF-8 403 body for a refused certificate, computed once per connection.</summary>
    public byte[] RefusalBody { get; private set; } = [];

    /// <summary>The peer recorded for the connection serving <paramref name="context"/>; null on a connection without TLS (the admin listener).</summary>
    public static ConnectionPeer? Of(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items is { } items ? Of(items) : null;

    /// <summary>The peer recorded in a connection's items; null on a connection without TLS.</summary>
    public static ConnectionPeer? Of(IDictionary<object, object?> connectionItems) =>
        connectionItems.TryGetValue(ItemKey, out var peer) ? peer as ConnectionPeer : null;

    public void AttachTo(IDictionary<object, object?> connectionItems) => connectionItems[ItemKey] = this;

    /// <summary>
    /// The TLS-layer callback: records the verdict and lets any presented certificate through so the refusal can be
    /// answered with a readable 403. A missing certificate fails the handshake.
    /// </summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            Error = "the client presented no certificate";
            GatewayLog.PeerRefused(_logger, _remote, Error);
            return false;
        }
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        Id = PeerCertificateValidator.Validate(leaf, chain, _anchors, _time, _learned, out var error);
        if (Id is null)
        {
            Error = error ?? "the client certificate was refused";
            RefusalBody = Encoding.UTF8.GetBytes($"client certificate refused: {Error}\n");
            GatewayLog.PeerRefused(_logger, _remote, Error);
        }
        else
        {
            IdText = Id.ToString();
        }
        return true;
    }
}
