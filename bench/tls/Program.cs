// CPU per mTLS handshake between mesh parts, full versus resumed, both sides in this process (so the process's CPU
// time is the two sides together), on loopback, with the product's own options: WorkloadIdentity client and server
// options, a leaf + cluster issuer chained to a federation root, the server validating as the gateway does
// (PeerCertificateValidator with LearnedIntermediates) and the client as the proxy does (the expected SPIFFE id).
// Batches alternate full / resumed so a machine that gets busier moves both alike. Every loop is bounded in count
// and in time. Usage: dotnet run -c Release --project bench/tls [-- ROUNDS HANDSHAKES_PER_BATCH]
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using FedMesh.Core.Identity;

var rounds = args.Length > 0 ? int.Parse(args[0]) : 5;
var perBatch = args.Length > 1 ? int.Parse(args[1]) : 200;
var deadline = Stopwatch.StartNew();
var budget = TimeSpan.FromMinutes(3);

using var root = CertificateAuthority.CreateRoot("fedmesh.local", TimeProvider.System);
using var west = root.CreateIntermediate("west");
using var east = root.CreateIntermediate("east");
using var gateway = WorkloadIdentity.FromIssuer(west, new SpiffeId("fedmesh.local", "west", "fedmesh-system", "gateway"), TimeSpan.FromHours(1));
using var proxy = WorkloadIdentity.FromIssuer(east, new SpiffeId("fedmesh.local", "east", "default", "echo"), TimeSpan.FromHours(1));
var expected = gateway.Id.ToString();

using var listener = new TcpListener(IPAddress.Loopback, 0);
listener.Start();
var endpoint = (IPEndPoint)listener.LocalEndpoint;
var refused = 0;
using var stop = new CancellationTokenSource();
var serving = ServeAsync();

// The same name every time: what MeshClient gives one upstream address and expected identity.
const string SessionName = "0123456789abcdef0123456789abcdef.session.fedmesh.invalid";
var full = proxy.ClientOptions(expected);
full.AllowTlsResume = false; // as every connection was before
full.TargetHost = SessionName;
var resumed = proxy.ClientOptions(expected);
resumed.TargetHost = SessionName;

await Batch(full, 20);
await Batch(resumed, 20);
var fullSamples = new List<(double CpuUs, double WallUs)>();
var resumedSamples = new List<(double CpuUs, double WallUs)>();
for (var round = 0; round < rounds && deadline.Elapsed < budget; round++)
{
    fullSamples.Add(await Batch(full, perBatch));
    resumedSamples.Add(await Batch(resumed, perBatch));
    Console.Error.WriteLine($"round {round + 1}: full {fullSamples[^1].CpuUs:F0} µs CPU, resumed {resumedSamples[^1].CpuUs:F0} µs CPU per handshake");
}
stop.Cancel();
listener.Stop();
if (refused > 0)
    throw new InvalidOperationException($"{refused} handshakes were refused; the figures are not comparable");

var fullCpu = Median(fullSamples.Select(s => s.CpuUs));
var resumedCpu = Median(resumedSamples.Select(s => s.CpuUs));
var fullWall = Median(fullSamples.Select(s => s.WallUs));
var resumedWall = Median(resumedSamples.Select(s => s.WallUs));
Console.WriteLine($"mTLS handshake, both sides together, median of {fullSamples.Count} interleaved rounds x {perBatch} handshakes (Environment.ProcessorCount={Environment.ProcessorCount})");
Console.WriteLine();
Console.WriteLine("| handshake | CPU µs per handshake | wall µs per handshake |");
Console.WriteLine("|---|---|---|");
Console.WriteLine($"| full | {fullCpu:F0} | {fullWall:F0} |");
Console.WriteLine($"| resumed | {resumedCpu:F0} | {resumedWall:F0} |");
Console.WriteLine($"| resumed / full | {resumedCpu / fullCpu:F2} | {resumedWall / fullWall:F2} |");
return;

async Task<(double CpuUs, double WallUs)> Batch(SslClientAuthenticationOptions options, int count)
{
    var process = Process.GetCurrentProcess();
    var cpu = process.TotalProcessorTime;
    var wall = Stopwatch.StartNew();
    for (var i = 0; i < count && deadline.Elapsed < budget; i++)
        await HandshakeAsync(options);
    process.Refresh();
    var spent = process.TotalProcessorTime - cpu;
    return (spent.TotalMicroseconds / count, wall.Elapsed.TotalMicroseconds / count);
}

async Task HandshakeAsync(SslClientAuthenticationOptions options)
{
    using var connection = new TcpClient { NoDelay = true };
    await connection.ConnectAsync(endpoint);
    await using var tls = new SslStream(connection.GetStream());
    await tls.AuthenticateAsClientAsync(options).WaitAsync(TimeSpan.FromSeconds(10));
    // The server's first byte: the client takes in the session tickets, as with a first response.
    await tls.ReadExactlyAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
}

async Task ServeAsync()
{
    while (!stop.IsCancellationRequested)
    {
        TcpClient socket;
        try
        {
            socket = await listener.AcceptTcpClientAsync(stop.Token);
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            using (socket)
            {
                socket.NoDelay = true; // as Kestrel's listeners do
                var options = gateway.ServerOptions();
                options.ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11];
                options.RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
                {
                    var id = PeerCertificateValidator.Validate(certificate as X509Certificate2, chain, gateway.Anchors,
                        TimeProvider.System, gateway.LearnedIntermediates, out _);
                    if (id is null)
                        Interlocked.Increment(ref refused);
                    return id is not null;
                };
                await using var tls = new SslStream(socket.GetStream());
                try
                {
                    await tls.AuthenticateAsServerAsync(options, stop.Token);
                    await tls.WriteAsync(new byte[] { 1 }, stop.Token);
                    await tls.ReadAtLeastAsync(new byte[1], 1, throwOnEndOfStream: false, stop.Token);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException)
                {
                }
            }
        });
    }
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
}
