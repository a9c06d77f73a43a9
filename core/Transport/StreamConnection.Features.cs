using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace FedMesh.Core.Transport;

/// <summary>
/// What Kestrel and the handlers read of the connection: ids, endpoints, items, lifetime, and for TLS the
/// features Kestrel's HTTPS middleware would have set (client certificate, handshake, ALPN), read from
/// <see cref="Ssl"/>. A plain connection does not register them (and they read as "no TLS" there).
/// </summary>
internal sealed partial class StreamConnection : IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature,
    IConnectionLifetimeFeature, IConnectionEndPointFeature, IConnectionSocketFeature, IMemoryPoolFeature,
    ITlsConnectionFeature, ITlsHandshakeFeature, ITlsApplicationProtocolFeature, ISslStreamFeature
{
    private X509Certificate2? _clientCertificate;
    private bool _clientCertificateRead;

    public MemoryPool<byte> MemoryPool { get; }

    public Socket Socket => _socket;

    SslStream ISslStreamFeature.SslStream => _ssl!;

    public X509Certificate2? ClientCertificate
    {
        get
        {
            if (!_clientCertificateRead)
            {
                _clientCertificate = _ssl?.RemoteCertificate switch
                {
                    null => null,
                    X509Certificate2 full => full,
                    var other => X509CertificateLoader.LoadCertificate(other.GetRawCertData()),
                };
                _clientCertificateRead = true;
            }
            return _clientCertificate;
        }
        set
        {
            _clientCertificate = value;
            _clientCertificateRead = true;
        }
    }

    public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult(ClientCertificate);

    public ReadOnlyMemory<byte> ApplicationProtocol => _ssl?.NegotiatedApplicationProtocol.Protocol ?? default;

    public SslProtocols Protocol => _ssl?.SslProtocol ?? SslProtocols.None;

    public TlsCipherSuite? NegotiatedCipherSuite => _ssl?.NegotiatedCipherSuite;

    public string HostName => _ssl?.TargetHostName ?? "";

#pragma warning disable SYSLIB0058 // the interface still carries the legacy algorithm properties
    public CipherAlgorithmType CipherAlgorithm => _ssl?.CipherAlgorithm ?? CipherAlgorithmType.None;
    public int CipherStrength => _ssl?.CipherStrength ?? 0;
    public HashAlgorithmType HashAlgorithm => _ssl?.HashAlgorithm ?? HashAlgorithmType.None;
    public int HashStrength => _ssl?.HashStrength ?? 0;
    public ExchangeAlgorithmType KeyExchangeAlgorithm => _ssl?.KeyExchangeAlgorithm ?? ExchangeAlgorithmType.None;
    public int KeyExchangeStrength => _ssl?.KeyExchangeStrength ?? 0;
#pragma warning restore SYSLIB0058

    private FeatureCollection CreateFeatures()
    {
        var features = new FeatureCollection(_ssl is null ? 7 : 11); // its final size: no growing
        features.Set<IConnectionIdFeature>(this);
        features.Set<IConnectionTransportFeature>(this);
        features.Set<IConnectionItemsFeature>(this);
        features.Set<IConnectionLifetimeFeature>(this);
        features.Set<IConnectionEndPointFeature>(this);
        features.Set<IConnectionSocketFeature>(this);
        features.Set<IMemoryPoolFeature>(this);
        if (_ssl is null)
            return features; // plain: Kestrel and the handlers find no TLS
        features.Set<ITlsConnectionFeature>(this);
        features.Set<ITlsHandshakeFeature>(this);
        features.Set<ITlsApplicationProtocolFeature>(this);
        features.Set<ISslStreamFeature>(this);
        return features;
    }
}
