using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FedMesh.Core.Http2;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// The HPACK codec against real peers' codecs, over HTTP/2 connections on loopback: nghttp2's client (Huffman strings,
/// the dynamic table, priority fields) as the sender our decoder reads, and Kestrel as the server that reads our
/// encoder's requests and answers with its own encoder's responses.
/// </summary>
public class HPackInteropTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Nghttp2sRequests_DecodeWhole_TheSecondThroughTheDynamicTable()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var client = StartNghttp($"-n -t 10 -H \"x-fedmesh-test: alpha\" http://127.0.0.1:{port}/first http://127.0.0.1:{port}/second?q=1");
        try
        {
            using var deadline = new CancellationTokenSource(Patience);
            using var socket = await listener.AcceptSocketAsync(deadline.Token);
            var connection = new FrameConnection(socket);
            await connection.ExpectPrefaceAsync(deadline.Token);
            await connection.SendAsync(w => Http2FrameWriter.WriteSettings(w, []), deadline.Token);
            var decoder = new HPackDecoder();
            var blocks = new List<(int Length, Fields Fields)>();
            while (blocks.Count < 2)
            {
                var (header, block) = await connection.NextHeaderBlockAsync(deadline.Token);
                var fields = new Fields();
                Assert.True(decoder.Decode(block, fields));
                blocks.Add((block.Length, fields));
                Assert.True(header.StreamId % 2 == 1, $"a client's stream id is odd: {header}");
            }
            Assert.Equal(["GET", "http", "/first", $"127.0.0.1:{port}", "alpha"],
                [blocks[0].Fields[":method"], blocks[0].Fields[":scheme"], blocks[0].Fields[":path"], blocks[0].Fields[":authority"], blocks[0].Fields["x-fedmesh-test"]]);
            Assert.Equal(["GET", "/second?q=1", $"127.0.0.1:{port}", "alpha"],
                [blocks[1].Fields[":method"], blocks[1].Fields[":path"], blocks[1].Fields[":authority"], blocks[1].Fields["x-fedmesh-test"]]);
            Assert.True(decoder.TableSize > 0, "nghttp2 indexes its fields");
            Assert.True(blocks[1].Length < blocks[0].Length / 2, $"the second block refers to the first's fields: {blocks[1].Length} bytes against {blocks[0].Length}");
        }
        finally
        {
            client.Kill();
        }
    }

    [Fact]
    public async Task OurRequests_AreReadByKestrel_AndKestrelsResponses_DecodeWhole()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        await using var app = builder.Build();
        app.Run(context =>
        {
            context.Response.Headers["x-echo-path"] = context.Request.Path + context.Request.QueryString;
            context.Response.Headers["x-echo-tenant"] = context.Request.Headers["x-tenant"].ToString();
            context.Response.Headers["x-echo-agent"] = context.Request.Headers.UserAgent.ToString();
            return Task.CompletedTask;
        });
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

        using var deadline = new CancellationTokenSource(Patience);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, address.Port, deadline.Token);
        var connection = new FrameConnection(socket);
        await connection.SendAsync(w => { w.Write(Http2Frames.ConnectionPreface); Http2FrameWriter.WriteSettings(w, []); }, deadline.Token);
        var encoder = new HPackEncoder();
        var decoder = new HPackDecoder();
        var tenant = new string('t', 300); // long enough that Kestrel's table entry for it saves bytes the second time
        for (var stream = 1; stream <= 5; stream += 2)
        {
            var path = $"/items/{stream}?page=%C3%A9";
            await connection.SendAsync(w =>
            {
                var block = new ArrayBufferWriter<byte>();
                encoder.StartBlock(block);
                foreach (var (name, value) in new[] { (":method", "GET"), (":scheme", "http"), (":authority", $"127.0.0.1:{address.Port}"),
                             (":path", path), ("user-agent", "fedmesh-hpack-test/1"), ("x-tenant", tenant) })
                    encoder.Encode(block, Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value));
                Http2FrameWriter.WriteHeaders(w, stream, block.WrittenSpan, endStream: true, Http2Frames.MinMaxFrameSize);
            }, deadline.Token);
            var (header, response) = await connection.NextHeaderBlockAsync(deadline.Token);
            Assert.Equal(stream, header.StreamId);
            var fields = new Fields();
            Assert.True(decoder.Decode(response, fields));
            Assert.Equal(["200", path, tenant, "fedmesh-hpack-test/1"], [fields[":status"], fields["x-echo-path"], fields["x-echo-tenant"], fields["x-echo-agent"]]);
            if (stream > 1)
                Assert.True(response.Length < 100, $"Kestrel's response {stream} refers to its table for the long echo: {response.Length} bytes");
        }
        Assert.True(encoder.TableSize > 300, "our encoder indexed the repeated fields");
    }

    private static Process StartNghttp(string arguments)
    {
        var start = new ProcessStartInfo("nghttp", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        try
        {
            return Process.Start(start) ?? throw new InvalidOperationException("nghttp did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("nghttp (Debian's nghttp2-client, which .ci/run installs) is needed for this test: " + e.Message, e);
        }
    }

    /// <summary>The fields of one decoded block by name (the last of a name wins).</summary>
    private sealed class Fields : IHeaderSink
    {
        private readonly Dictionary<string, string> _byName = [];

        public string this[string name] => _byName.TryGetValue(name, out var value) ? value : $"(no {name})";

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed) =>
            _byName[Encoding.ASCII.GetString(name)] = Encoding.ASCII.GetString(value);
    }

    /// <summary>
    /// A bare HTTP/2 endpoint for the test: sends what the frame writer writes, reads frames with the frame reader,
    /// acknowledges the peer's SETTINGS, and puts a HEADERS frame's block together with its CONTINUATION frames.
    /// </summary>
    private sealed class FrameConnection(Socket socket)
    {
        private readonly byte[] _buffer = new byte[256 * 1024];
        private int _filled;

        public async Task SendAsync(Action<ArrayBufferWriter<byte>> write, CancellationToken cancellationToken)
        {
            var output = new ArrayBufferWriter<byte>();
            write(output);
            await socket.SendAsync(output.WrittenMemory, SocketFlags.None, cancellationToken);
        }

        public async Task ExpectPrefaceAsync(CancellationToken cancellationToken)
        {
            while (_filled < Http2Frames.ConnectionPreface.Length)
                await ReceiveAsync(cancellationToken);
            Assert.True(_buffer.AsSpan(0, Http2Frames.ConnectionPreface.Length).SequenceEqual(Http2Frames.ConnectionPreface), "the client's preface");
            Consume(Http2Frames.ConnectionPreface.Length);
        }

        public async Task<(Http2FrameHeader Header, byte[] Block)> NextHeaderBlockAsync(CancellationToken cancellationToken)
        {
            var block = new List<byte>();
            Http2FrameHeader first = default;
            while (true)
            {
                var sequence = new ReadOnlySequence<byte>(_buffer, 0, _filled);
                if (!Http2FrameReader.TryReadFrame(ref sequence, Http2Frames.MinMaxFrameSize, out var header, out var payload))
                {
                    await ReceiveAsync(cancellationToken);
                    continue;
                }
                var fragment = header.Type switch
                {
                    Http2FrameType.Headers => Http2FrameReader.ReadHeaders(header, payload).ToArray(),
                    Http2FrameType.Continuation => Http2FrameReader.ReadContinuation(header, payload).ToArray(),
                    _ => null,
                };
                Consume(_filled - (int)sequence.Length);
                if (header.Type == Http2FrameType.Settings && !header.Has(Http2Flags.Ack))
                    await SendAsync(Http2FrameWriter.WriteSettingsAck, cancellationToken);
                if (fragment is null)
                    continue;
                if (header.Type == Http2FrameType.Headers)
                    first = header;
                block.AddRange(fragment);
                if (header.Has(Http2Flags.EndHeaders))
                    return (first, block.ToArray());
            }
        }

        private async Task ReceiveAsync(CancellationToken cancellationToken)
        {
            var read = await socket.ReceiveAsync(_buffer.AsMemory(_filled), SocketFlags.None, cancellationToken);
            if (read == 0)
                throw new IOException("the peer closed the connection");
            _filled += read;
        }

        private void Consume(int count)
        {
            _buffer.AsSpan(count, _filled - count).CopyTo(_buffer);
            _filled -= count;
        }
    }
}
