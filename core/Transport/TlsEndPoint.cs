using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FedMesh.Core.Transport;

/// <summary>How a <see cref="TlsTransport"/> port runs each connection's server handshake.</summary>
public sealed class TlsListenOptions
{
    /// <summary>
    /// The handshake options for one connection, asked afresh for each (so a renewed certificate is presented
    /// on the next handshake). The connection's <see cref="ConnectionContext.Items"/> and
    /// <see cref="ConnectionContext.RemoteEndPoint"/> are there already; what is stored in Items is seen by
    /// every request on the connection. Throwing refuses the connection.
    /// </summary>
    public required Func<ConnectionContext, CancellationToken, ValueTask<SslServerAuthenticationOptions>> OnConnection { get; init; }

    /// <summary>How long the handshake (including <see cref="OnConnection"/>) may take; 10 s by default, as Kestrel's.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// One protocol's half of a TLS port served by <see cref="TlsTransport"/>: connections whose ALPN chose h2
/// go to the HTTP/2 half, all others to the HTTP/1.1 half.
/// </summary>
public sealed class TlsEndPoint(IPEndPoint address, HttpProtocols protocol, TlsListenOptions tls) : SharedPortEndPoint(address, protocol)
{
    public TlsListenOptions Tls { get; } = tls;
}

/// <summary>Serving HTTPS through <see cref="TlsTransport"/> instead of Kestrel's HTTPS connection middleware.</summary>
public static class TlsTransportExtensions
{
    /// <summary>
    /// Registers the TLS transport; <see cref="ListenTls"/> endpoints are bound through it. The socket transport
    /// is registered beside it for the plain endpoints: <c>UseSockets</c> adds it only when no transport is
    /// registered yet, so without this the order of the two calls would decide whether plain endpoints bind.
    /// </summary>
    public static IServiceCollection AddTlsTransport(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, SocketTransportFactory>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, TlsTransport>());
        return services;
    }

    /// <summary>
    /// Listens on <paramref name="endpoint"/> for HTTP/1.1 and HTTP/2 over TLS, the protocol chosen by ALPN
    /// (offer both in the options <see cref="TlsListenOptions.OnConnection"/> returns). Kestrel sees two
    /// endpoints, one per protocol, sharing the port; <paramref name="configure"/> is applied to both, and
    /// <paramref name="bound"/> receives the HTTP/1.1 one (its <see cref="ListenOptions.EndPoint"/> is the
    /// <see cref="TlsEndPoint"/> actually bound once the server has started), <paramref name="http2"/> the HTTP/2 one.
    /// </summary>
    public static void ListenTls(this KestrelServerOptions kestrel, IPEndPoint endpoint, TlsListenOptions tls,
        Action<ListenOptions>? configure = null, Action<ListenOptions>? bound = null, Action<ListenOptions>? http2 = null)
    {
        kestrel.Listen(new TlsEndPoint(endpoint, HttpProtocols.Http1, tls), listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            configure?.Invoke(listen);
            bound?.Invoke(listen);
        });
        kestrel.Listen(new TlsEndPoint(endpoint, HttpProtocols.Http2, tls), listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            configure?.Invoke(listen);
            http2?.Invoke(listen);
        });
    }

    /// <summary>The address a listener bound (port 0 resolved), whether it is one half of a shared port or a plain endpoint.</summary>
    public static IPEndPoint BoundAddress(this ListenOptions listen) => listen.EndPoint switch
    {
        SharedPortEndPoint shared => shared.Address,
        IPEndPoint ip => ip,
        var other => throw new InvalidOperationException($"{other} is not an IP endpoint"),
    };
}
