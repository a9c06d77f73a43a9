using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using FedMesh.Core.Http2;
using FedMesh.Tests.Shared;
using Microsoft.AspNetCore.Connections;

namespace FedMesh.Core.Tests.Http2;

/// <summary>A loopback listener whose one connection an <see cref="Http2Relay"/> serves, and an h2c HttpClient for it.</summary>
internal sealed class Http2RelayedCaller : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private Task _serving = Task.CompletedTask;

    public HttpClient Http { get; } = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = Eventually.DefaultTimeout };

    public static Http2RelayedCaller Start(Http2Relay relay)
    {
        var caller = new Http2RelayedCaller();
        caller._listener.Start();
        caller._serving = caller.ServeAsync(relay);
        return caller;
    }

    /// <summary>A request for <paramref name="path"/> in HTTP/2 with prior knowledge.</summary>
    public HttpRequestMessage Request(HttpMethod method, string path) =>
        new(method, $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}{path}")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

    private async Task ServeAsync(Http2Relay relay)
    {
        using var socket = await _listener.AcceptSocketAsync(_stop.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var transport = new StreamTransport(stream);
        await relay.RunAsync(new DefaultConnectionContext("caller", transport, transport), _stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _serving.WaitAsync(Eventually.DefaultTimeout);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException)
        {
            // The connection ended with the test.
        }
    }

    /// <summary>Both halves leave the stream open: completing the input must not dispose what the output still flushes to.</summary>
    private sealed class StreamTransport(Stream stream) : IDuplexPipe
    {
        public PipeReader Input { get; } = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));

        public PipeWriter Output { get; } = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
    }
}
