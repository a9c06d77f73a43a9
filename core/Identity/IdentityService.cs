using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FedMesh.Core.Identity.Protocol;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FedMesh.Core.Identity;

/// <summary>
/// The server side of the Identity protocol: signs leaf certificates of one cluster from CSRs. A caller must present
/// the cluster's bootstrap token and may only ask for an identity of this cluster and trust domain.
/// Map it with <c>app.MapGrpcService&lt;IdentityService&gt;()</c> after registering it with
/// <see cref="IdentityServiceCollectionExtensions.AddIdentityService"/>.
/// </summary>
public sealed class IdentityService : Protocol.Identity.IdentityBase
{
    private readonly CertificateAuthority _issuer;
    private readonly byte[] _token;
    private readonly TimeSpan _leafLifetime;
    private readonly ILogger _logger;
    private readonly ByteString[] _chain;
    private ByteString[] _anchors;

    /// <param name="issuer">The cluster's issuer (or, embedded, the trust anchor itself).</param>
    /// <param name="cluster">The only cluster identities are signed for.</param>
    /// <param name="trustDomain">The only trust domain identities are signed for.</param>
    /// <param name="bootstrapToken">The token callers must present.</param>
    /// <param name="logger">Where issuance and refusals are logged.</param>
    /// <param name="leafLifetime">Leaf lifetime; <see cref="IdentityDefaults.LeafLifetime"/> when null.</param>
    public IdentityService(CertificateAuthority issuer, string cluster, string trustDomain, string bootstrapToken,
        ILogger<IdentityService>? logger = null, TimeSpan? leafLifetime = null)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        ArgumentException.ThrowIfNullOrEmpty(bootstrapToken);
        if (issuer.TrustDomain != trustDomain || (issuer.Cluster is not null && issuer.Cluster != cluster))
        {
            throw new IdentityException(
                $"issuer '{issuer.Certificate.Subject}' cannot sign for cluster '{cluster}' in trust domain '{trustDomain}'");
        }
        _issuer = issuer;
        Cluster = cluster;
        TrustDomain = trustDomain;
        _token = Encoding.UTF8.GetBytes(bootstrapToken);
        _leafLifetime = leafLifetime ?? IdentityDefaults.LeafLifetime;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        var chain = issuer.LeafIssuerChain();
        _chain = new ByteString[chain.Count];
        for (var i = 0; i < chain.Count; i++)
        {
            _chain[i] = ByteString.CopyFrom(chain[i].RawData);
        }
        _anchors = [ByteString.CopyFrom(issuer.Root.RawData)];
    }

    public string Cluster { get; }
    public string TrustDomain { get; }

    /// <summary>
    /// Replaces the trust anchors handed to workloads (the federation's root plus, with per-cluster anchors, the
    /// bundles of linked clusters). Workloads pick them up at their next renewal.
    /// </summary>
    public void SetTrustAnchors(IReadOnlyList<X509Certificate2> anchors)
    {
        ArgumentNullException.ThrowIfNull(anchors);
        var encoded = new ByteString[anchors.Count + 1];
        encoded[0] = ByteString.CopyFrom(_issuer.Root.RawData);
        var count = 1;
        foreach (var anchor in anchors)
        {
            if (!anchor.RawData.AsSpan().SequenceEqual(_issuer.Root.RawData))
            {
                encoded[count++] = ByteString.CopyFrom(anchor.RawData);
            }
        }
        Volatile.Write(ref _anchors, encoded[..count]);
    }

    public override Task<CertifyResponse> Certify(CertifyRequest request, ServerCallContext context)
    {
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(request.Token), _token))
        {
            return Refuse(StatusCode.PermissionDenied, request.Identity, context,
                $"the bootstrap token is not the one of cluster '{Cluster}'; use the token from the cluster's token file");
        }
        if (!SpiffeId.TryParse(request.Identity, out var id, out var parseError))
        {
            return Refuse(StatusCode.InvalidArgument, request.Identity, context, parseError);
        }
        if (id.TrustDomain != TrustDomain || id.Cluster != Cluster)
        {
            return Refuse(StatusCode.PermissionDenied, request.Identity, context,
                $"this controller issues identities of cluster '{Cluster}' in trust domain '{TrustDomain}' only");
        }
        X509Certificate2 leaf;
        try
        {
            leaf = _issuer.SignLeaf(request.CsrDer.Span, id, _leafLifetime);
        }
        catch (IdentityException e)
        {
            return Refuse(StatusCode.InvalidArgument, request.Identity, context, e.Message);
        }
        using (leaf)
        {
            var response = new CertifyResponse
            {
                LeafDer = ByteString.CopyFrom(leaf.RawData),
                NotAfterUnixMs = CertificateBuilder.NotAfter(leaf).ToUnixTimeMilliseconds(),
            };
            response.ChainDer.Add(_chain);
            response.TrustAnchorsDer.Add(Volatile.Read(ref _anchors));
            _logger.LogInformation("certified {Id} for {Peer}, valid until {NotAfter:u}", id, context.Peer, leaf.NotAfter.ToUniversalTime());
            return Task.FromResult(response);
        }
    }

    private Task<CertifyResponse> Refuse(StatusCode code, string identity, ServerCallContext context, string message)
    {
        _logger.LogWarning("refused to certify '{Identity}' for {Peer}: {Reason}", identity, context.Peer, message);
        throw new RpcException(new Status(code, message));
    }
}
