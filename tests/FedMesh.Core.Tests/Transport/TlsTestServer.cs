using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FedMesh.Core.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FedMesh.Core.Tests.Transport;

/// <summary>A real Kestrel server on 127.0.0.1:0 whose one listener is a <see cref="TlsTransport"/> port.</summary>
internal sealed class TlsTestServer : IAsyncDisposable
{
    private WebApplication _app = null!;
    private ListenOptions? _listen;

    public IPEndPoint Address => _listen!.BoundAddress();

    public string Url => $"https://{Address}";

    /// <summary>Every log line of FedMesh categories, Debug and above.</summary>
    public ConcurrentQueue<string> Logs { get; } = new();

    /// <summary>How many TLS handshakes the options callback was asked for.</summary>
    public int Handshakes;

    public static X509Certificate2 Certificate(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pfx), null);
    }

    /// <param name="acceptClient">Whether a presented client certificate is accepted; a missing one always fails.</param>
    public static async Task<TlsTestServer> StartAsync(RequestDelegate handler, Func<X509Certificate?, bool>? acceptClient = null,
        TimeSpan? handshakeTimeout = null, Action<ConnectionContext>? onConnection = null)
    {
        var certificate = Certificate("server.test");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Services.AddTlsTransport();
        var server = new TlsTestServer();
        builder.Logging.AddProvider(new ForwardingProvider(server));
        var tls = new TlsListenOptions
        {
            HandshakeTimeout = handshakeTimeout ?? TimeSpan.FromSeconds(10),
            OnConnection = (connection, _) =>
            {
                Interlocked.Increment(ref server.Handshakes);
                onConnection?.Invoke(connection);
                return ValueTask.FromResult(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = SslStreamCertificateContext.Create(certificate, null),
                    ClientCertificateRequired = true,
                    ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
                    RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && (acceptClient?.Invoke(presented) ?? true),
                });
            },
        };
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MinResponseDataRate = null;
            kestrel.ListenTls(new IPEndPoint(IPAddress.Loopback, 0), tls, bound: listen => server._listen = listen);
        });
        var app = builder.Build();
        server._app = app;
        app.Run(handler);
        await app.StartAsync();
        return server;
    }

    /// <summary>A client presenting <paramref name="certificate"/> (a fresh self-signed one by default; none when <paramref name="none"/>).</summary>
    public static HttpClient Client(X509Certificate2? certificate = null, bool none = false, int maxConnections = int.MaxValue)
    {
        var ssl = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = static (_, _, _, _) => true };
        if (!none)
            ssl.ClientCertificateContext = SslStreamCertificateContext.Create(certificate ?? Certificate("client.test"), null);
        return new HttpClient(new SocketsHttpHandler { SslOptions = ssl, MaxConnectionsPerServer = maxConnections }) { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>A raw TLS client stream (HTTP/1.1 by ALPN) with a client certificate.</summary>
    public async Task<SslStream> ConnectRawAsync()
    {
        var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await tcp.ConnectAsync(Address);
        var ssl = new SslStream(new NetworkStream(tcp, ownsSocket: true));
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "server.test",
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            ClientCertificateContext = SslStreamCertificateContext.Create(Certificate("client.test"), null),
            ApplicationProtocols = [SslApplicationProtocol.Http11],
        });
        return ssl;
    }

    public bool Logged(string text) => Logs.Any(line => line.Contains(text, StringComparison.Ordinal));

    public async Task StopAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _app.StopAsync(cancel.Token);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private sealed class ForwardingProvider(TlsTestServer server) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, server);
        public void Dispose() { }
    }

    private sealed class Logger(string category, TlsTestServer server) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => server.Logs.Enqueue($"{logLevel} {category}: {formatter(state, exception)}");
    }
}
