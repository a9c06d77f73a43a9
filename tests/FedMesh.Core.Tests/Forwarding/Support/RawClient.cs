using System.Net.Sockets;
using System.Text;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Forwarding.Support;

/// <summary>A response as the client read it off the wire.</summary>
internal sealed record RawResponse(int Status, WireHead Head, byte[] Body, bool Complete)
{
    public string Text => Encoding.Latin1.GetString(Body);
}

/// <summary>Sends hand-written request bytes to the front, for what HttpClient would not send as written (raw targets, repeated or hop-by-hop fields).</summary>
internal static class RawClient
{
    public static async Task<RawResponse> SendAsync(Uri front, string head, byte[]? body = null)
    {
        using var deadline = new CancellationTokenSource(ScriptedUpstream.Deadline);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(front.Host, front.Port, deadline.Token);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(head), deadline.Token);
        if (body is not null)
            await stream.WriteAsync(body, deadline.Token);
        var reader = new WireReader(stream);
        var response = await reader.ReadHeadAsync(deadline.Token) ?? throw new EndOfStreamException("the front closed without answering");
        var status = int.Parse(response.StartLine.Split(' ')[1]);
        if (head.StartsWith("HEAD ", StringComparison.Ordinal) || status is 204 or 304)
            return new RawResponse(status, response, [], true);
        if (response.Values("Transfer-Encoding") is [.., var coding] && coding.EndsWith("chunked", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var (_, data, _, _) = await reader.ReadChunkedAsync(deadline.Token);
                return new RawResponse(status, response, data, true);
            }
            catch (Exception e) when (e is IOException or FormatException)
            {
                return new RawResponse(status, response, [], false);
            }
        }
        if (response.Values("Content-Length") is [var length])
            return new RawResponse(status, response, await reader.ReadExactlyAsync(long.Parse(length), deadline.Token), true);
        return new RawResponse(status, response, await reader.ReadToEndAsync(deadline.Token), true);
    }
}
