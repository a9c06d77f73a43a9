using System.Text;
using FedMesh.Core.Tests.Forwarding.Support;

namespace FedMesh.Core.Tests.Forwarding;

/// <summary>
/// A response body that the upstream sends in parts moves on to the client as each part arrives, on both ways a response
/// takes (the byte relay, and the direct way through Kestrel's response), for every framing: the upstream sends the rest
/// only once the client has read the first part, so a hop that held it back would never finish.
/// </summary>
public sealed class StreamedBodyTests
{
    public static TheoryData<string, string> WaysAndFramings()
    {
        var data = new TheoryData<string, string>();
        foreach (var way in new[] { "relay", "direct" })
        {
            foreach (var framing in new[] { "length", "chunked", "close" })
                data.Add(way, framing);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(WaysAndFramings))]
    public async Task BodySentInParts_FirstPartReachesTheClientBeforeTheUpstreamSendsTheRest(string way, string framing)
    {
        var clientHasFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            await c.ReadRequestAsync();
            switch (framing)
            {
                case "length":
                    await c.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nfirst ");
                    await clientHasFirst.Task;
                    await c.SendAsync("second");
                    break;
                case "chunked":
                    await c.SendAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst \r\n");
                    await clientHasFirst.Task;
                    await c.SendAsync("6\r\nsecond\r\n0\r\n\r\n");
                    break;
                default:
                    await c.SendAsync("HTTP/1.1 200 OK\r\n\r\nfirst ");
                    await clientHasFirst.Task;
                    await c.SendAsync("second");
                    c.Close();
                    break;
            }
            await c.WaitClosedByPeerAsync();
        });
        await using var relay = way == "relay" ? await RelayFront.StartAsync(upstream.Prefix) : null;
        await using var direct = way == "direct" ? await ForwardingFront.StartAsync(upstream.Prefix) : null;
        using var client = relay is not null ? new HttpClient { BaseAddress = new Uri($"http://{relay.EndPoint}") } : null;
        var http = client ?? direct!.Http;
        using var deadline = new CancellationTokenSource(ScriptedUpstream.Deadline);

        using var response = await http.GetAsync("/stream", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        await using var body = await response.Content.ReadAsStreamAsync(deadline.Token);
        var first = new byte[6];
        await body.ReadExactlyAsync(first, deadline.Token); // throws when the deadline passes: the first part was held back
        clientHasFirst.SetResult();
        var rest = new MemoryStream();
        await body.CopyToAsync(rest, deadline.Token);

        Assert.Equal("first ", Encoding.ASCII.GetString(first));
        Assert.Equal("second", Encoding.ASCII.GetString(rest.ToArray()));
    }
}
