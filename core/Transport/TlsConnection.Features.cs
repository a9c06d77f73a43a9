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
/// What Kestrel and the handlers read of the connection: ids, endpoints, items, lifetime, and the TLS
/// features Kestrel's HTTPS middleware would have set (client certificate, handshake, ALPN).
/// </summary>
internal sealed partial class TlsConnection : IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature,
    IConnectionLifetimeFeature, IConnectionEndPointFeature, IConnectionSocketFeature, IMemoryPoolFeature,
    ITlsConnectionFeature, ITlsHandshakeFeature, ITlsApplicationProtocolFeature, ISslStreamFeature
{
    private X509Certificate2? _clientCertificate;
    private bool _clientCertificateRead;

    public MemoryPool<byte> MemoryPool { get; }

    public Socket Socket => _socket;

    SslStream ISslStreamFeature.SslStream => Ssl;

    public X509Certificate2? ClientCertificate
    {
        get
        {
            if (!_clientCertificateRead)
            {
                _clientCertificate = Ssl.RemoteCertificate switch
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

    public ReadOnlyMemory<byte> ApplicationProtocol => Ssl.NegotiatedApplicationProtocol.Protocol;

    public SslProtocols Protocol => Ssl.SslProtocol;

    public TlsCipherSuite? NegotiatedCipherSuite => Ssl.NegotiatedCipherSuite;

    public string HostName => Ssl.TargetHostName;

#pragma warning disable SYSLIB0058 // the interface still carries the legacy algorithm properties
    public CipherAlgorithmType CipherAlgorithm => Ssl.CipherAlgorithm;
    public int CipherStrength => Ssl.CipherStrength;
    public HashAlgorithmType HashAlgorithm => Ssl.HashAlgorithm;
    public int HashStrength => Ssl.HashStrength;
    public ExchangeAlgorithmType KeyExchangeAlgorithm => Ssl.KeyExchangeAlgorithm;
    public int KeyExchangeStrength => Ssl.KeyExchangeStrength;
#pragma warning restore SYSLIB0058

    private FeatureCollection CreateFeatures()
    {
        var features = new FeatureCollection();
        features.Set<IConnectionIdFeature>(this);
        features.Set<IConnectionTransportFeature>(this);
        features.Set<IConnectionItemsFeature>(this);
        features.Set<IConnectionLifetimeFeature>(this);
        features.Set<IConnectionEndPointFeature>(this);
        features.Set<IConnectionSocketFeature>(this);
        features.Set<IMemoryPoolFeature>(this);
        features.Set<ITlsConnectionFeature>(this);
        features.Set<ITlsHandshakeFeature>(this);
        features.Set<ITlsApplicationProtocolFeature>(this);
        features.Set<ISslStreamFeature>(this);
        return features;
    }
}
