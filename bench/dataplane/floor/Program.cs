using System.Net;
using FedMesh.Bench.Floor;

// FedMesh.Bench.Floor LISTEN_PORT UPSTREAM_PORT SNI CHAIN KEY CA
//
// The floor of the one-hop row: plain HTTP/1.1 in, mTLS HTTP/1.1 out to 127.0.0.1:UPSTREAM_PORT, written the way nginx
// is written rather than the way .NET servers are: one thread, its own edge-triggered epoll loop, non-blocking send and
// recv on the descriptors, OpenSSL called directly on the upstream socket (no SslStream, no socket engine, no pipes, no
// async state machines, no Kestrel). It relays bytes and nothing else: no routing, no header rewriting, no counting,
// no timeouts. So its CPU per request is about the least a .NET relay of that row can cost on this host, and
// bench/dataplane/floor.sh sets it beside the FedMesh proxy, nginx and HAProxy.
//
// It is a probe, not a proxy: one upstream connection per client connection, opened (and its TLS handshake made,
// blocking) when the client connects; requests without a body; responses framed by Content-Length. Anything else
// closes the pair.
if (args.Length != 6 || !int.TryParse(args[0], out var listenPort) || !int.TryParse(args[1], out var upstreamPort))
{
    Console.Error.WriteLine("usage: FedMesh.Bench.Floor LISTEN_PORT UPSTREAM_PORT SNI CHAIN KEY CA");
    return 2;
}
var ctx = OpenSsl.CtxNew(OpenSsl.TlsClientMethod());
if (OpenSsl.CtxUseCertificateChainFile(ctx, args[3]) != 1)
    return Fail($"{args[3]}: not a PEM certificate chain OpenSSL can load");
if (OpenSsl.CtxUsePrivateKeyFile(ctx, args[4], OpenSsl.FiletypePem) != 1)
    return Fail($"{args[4]}: not a PEM private key matching {args[3]}");
if (OpenSsl.CtxLoadVerifyLocations(ctx, args[5], 0) != 1)
    return Fail($"{args[5]}: not a PEM CA bundle");
OpenSsl.CtxSetVerify(ctx, OpenSsl.VerifyPeer, 0);

var relay = new Relay(ctx, new IPEndPoint(IPAddress.Loopback, upstreamPort), args[2]);
relay.Run(new IPEndPoint(IPAddress.Loopback, listenPort));
return 0;

static int Fail(string message)
{
    Console.Error.WriteLine("floor: " + message);
    return 1;
}
