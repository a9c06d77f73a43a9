using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FedMesh.Core.Identity.Protocol;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace FedMesh.Core.Identity;

/// <summary>Asks a controller's Identity service for a leaf: fresh key, CSR, Certify call, checked response.</summary>
internal sealed class IdentityCertifier : IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);
    private readonly GrpcChannel _channel;
    private readonly Protocol.Identity.IdentityClient _client;
    private readonly CertifyToken _token;
    private readonly TimeProvider _time;

    public IdentityCertifier(string controllerAddress, SpiffeId id, CertifyToken token, TimeProvider time)
    {
        if (!Uri.TryCreate(controllerAddress, UriKind.Absolute, out var address)
            || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            throw new IdentityException($"controller address '{controllerAddress}' must be an absolute http:// or https:// URL");
        }
        ControllerAddress = controllerAddress;
        Id = id;
        _token = token;
        _time = time;
        _channel = GrpcChannel.ForAddress(address);
        _client = new Protocol.Identity.IdentityClient(_channel);
    }

    public string ControllerAddress { get; }
    public SpiffeId Id { get; }

    public static byte[] CreateSigningRequest(ECDsa key, SpiffeId id)
    {
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(id.ServiceAccount);
        var request = new CertificateRequest(subject.Build(), key, CertificateBuilder.Hash);
        request.CertificateExtensions.Add(SanUris.Create(id.ToString()));
        return request.CreateSigningRequest();
    }

    /// <summary>
    /// Obtains a new leaf. Refusals by the controller become <see cref="IdentityException"/>; transport trouble stays
    /// <see cref="RpcException"/>; the caller's cancellation is an <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<IdentityMaterial> CertifyAsync(CancellationToken cancellationToken)
    {
        // Read for every call: a projected service-account token is rotated in place by the kubelet.
        var token = await _token.ReadAsync(cancellationToken).ConfigureAwait(false);
        var key = CertificateBuilder.NewKey(); // owned by the issued leaf once bound
        var request = new CertifyRequest
        {
            CsrDer = ByteString.CopyFrom(CreateSigningRequest(key, Id)),
            Identity = Id.ToString(),
            Token = token,
        };
        CertifyResponse response;
        using var timeout = new CancellationTokenSource(CallTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            response = await _client.CertifyAsync(request, cancellationToken: linked.Token).ConfigureAwait(false);
        }
        catch (RpcException e) when (cancellationToken.IsCancellationRequested)
        {
            // gRPC reports the caller's cancellation as a Cancelled status; callers wait for a cancellation.
            key.Dispose();
            throw new OperationCanceledException($"certifying '{Id}' was cancelled", e, cancellationToken);
        }
        catch (RpcException e) when (!IsTransient(e.StatusCode))
        {
            key.Dispose();
            throw new IdentityException(
                $"the controller at {ControllerAddress} refused to certify '{Id}': {e.Status.Detail} ({e.StatusCode})", e);
        }
        catch
        {
            key.Dispose();
            throw;
        }
        try
        {
            return Read(response, key);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    public static bool IsTransient(StatusCode code) => code is StatusCode.Unavailable or StatusCode.DeadlineExceeded
        or StatusCode.ResourceExhausted or StatusCode.Aborted or StatusCode.Internal or StatusCode.Unknown
        or StatusCode.Cancelled;

    private IdentityMaterial Read(CertifyResponse response, ECDsa key)
    {
        try
        {
            using var leaf = X509CertificateLoader.LoadCertificate(response.LeafDer.Span);
            var intermediates = new X509Certificate2Collection();
            foreach (var der in response.ChainDer)
            {
                intermediates.Add(X509CertificateLoader.LoadCertificate(der.Span));
            }
            var anchors = new List<X509Certificate2>(response.TrustAnchorsDer.Count);
            foreach (var der in response.TrustAnchorsDer)
            {
                anchors.Add(X509CertificateLoader.LoadCertificate(der.Span));
            }
            return IdentityMaterial.Create(leaf, key, Id, intermediates, anchors, _time);
        }
        catch (CryptographicException e)
        {
            throw new IdentityException($"the controller at {ControllerAddress} returned an unreadable certificate for '{Id}': {e.Message}", e);
        }
    }

    public void Dispose() => _channel.Dispose();
}
