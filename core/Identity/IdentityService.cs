using System.Security.Cryptography.X509Certificates;
using FedMesh.Core.Identity.Protocol;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FedMesh.Core.Identity;

/// <summary>
/// The server side of the Identity protocol: signs leaf certificates of one cluster from CSRs. A caller's credential is
/// judged by an <see cref="ICertifyAuthorizer"/> (locally the cluster's bootstrap token, on Kubernetes a reviewed
/// service-account token), and it may only ask for an identity of this cluster and trust domain.
/// Map it with <c>app.MapGrpcService&lt;IdentityService&gt;()</c> after registering it with
/// <see cref="IdentityServiceCollectionExtensions.AddIdentityService"/>.
/// </summary>
public sealed class IdentityService : Protocol.Identity.IdentityBase
{
    private readonly CertificateAuthority _issuer;
    private readonly ICertifyAuthorizer _authorizer;
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
        : this(issuer, cluster, trustDomain, CertifyAuthorizers.BootstrapToken(cluster, bootstrapToken), logger, leafLifetime)
    {
    }

    /// <param name="issuer">The cluster's issuer (or, embedded, the trust anchor itself).</param>
    /// <param name="cluster">The only cluster identities are signed for.</param>
    /// <param name="trustDomain">The only trust domain identities are signed for.</param>
    /// <param name="authorizer">Judges each caller's credential against the identity it asks for.</param>
    /// <param name="logger">Where issuance and refusals are logged.</param>
    /// <param name="leafLifetime">Leaf lifetime; <see cref="IdentityDefaults.LeafLifetime"/> when null.</param>
    public IdentityService(CertificateAuthority issuer, string cluster, string trustDomain, ICertifyAuthorizer authorizer,
        ILogger<IdentityService>? logger = null, TimeSpan? leafLifetime = null)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        ArgumentNullException.ThrowIfNull(authorizer);
        if (issuer.TrustDomain != trustDomain || (issuer.Cluster is not null && issuer.Cluster != cluster))
        {
            throw new IdentityException(
                $"issuer '{issuer.Certificate.Subject}' cannot sign for cluster '{cluster}' in trust domain '{trustDomain}'");
        }
        _issuer = issuer;
        Cluster = cluster;
        TrustDomain = trustDomain;
        _authorizer = authorizer;
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

    public override async Task<CertifyResponse> Certify(CertifyRequest request, ServerCallContext context)
    {
        // The credential is judged first, so an unauthenticated caller learns nothing about identities.
        var decision = await _authorizer.AuthorizeAsync(request.Token, request.Identity, context.CancellationToken).ConfigureAwait(false);
        if (decision.Outcome != CertifyOutcome.Allowed)
        {
            return Refuse(StatusOf(decision.Outcome), request.Identity, context, decision.Reason);
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
            return response;
        }
    }

    private static StatusCode StatusOf(CertifyOutcome outcome) => outcome switch
    {
        CertifyOutcome.Unauthenticated => StatusCode.Unauthenticated,
        CertifyOutcome.Unavailable => StatusCode.Unavailable,
        _ => StatusCode.PermissionDenied,
    };

    private CertifyResponse Refuse(StatusCode code, string identity, ServerCallContext context, string message)
    {
        _logger.LogWarning("refused to certify '{Identity}' for {Peer}: {Reason}", identity, context.Peer, message);
        throw new RpcException(new Status(code, message));
    }
}
