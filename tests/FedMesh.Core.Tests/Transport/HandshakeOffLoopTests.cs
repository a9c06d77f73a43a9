using System.Net.Security;
using System.Net.Sockets;
using FedMesh.Core.Transport;

namespace FedMesh.Core.Tests.Transport;

/// <summary>
/// TLS handshakes stay off the socket loops' threads (<see cref="LoopStream.HandshakeOffLoopAsync"/>): a handshake's
/// work (its signatures, and the chain built for the peer's certificate, which every 5 minutes makes .NET read the
/// system's whole root store again) would otherwise stall every connection of the loop as long.
/// </summary>
public sealed class HandshakeOffLoopTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ClientHandshake_OnAStreamWithInlineContinuations_ValidatesTheServerOffTheLoop()
    {
        // As in the data plane (socket completions inline): without the helper the server's certificate is checked on
        // the loop's thread, the one that completed the read of the server's answer; with it, on the thread pool.
        Assert.True(await ServerCheckedOnLoopAsync(offLoop: false), "premise: an inline continuation runs on the loop");
        Assert.False(await ServerCheckedOnLoopAsync(offLoop: true));
    }

    [Fact]
    public async Task ClientHandshake_GivesTheStreamItsInlineContinuationsBack()
    {
        var (opened, accepted) = await LoopbackPair.OpenUpstreamAsync();
        await using var _ = opened;
        using var __ = accepted;
        opened.InlineContinuations = true;
        var server = ServeAsync(accepted);
        await using var ssl = new SslStream(opened, leaveInnerStreamOpen: true);

        await LoopStream.HandshakeOffLoopAsync(opened, () => ssl.AuthenticateAsClientAsync(ClientOptions(_ => { }))).WaitAsync(Patience);

        Assert.True(opened.InlineContinuations);
        await server.WaitAsync(Patience);
    }

    [Fact]
    public async Task ClientHandshake_ThatFails_GivesTheStreamItsInlineContinuationsBack()
    {
        var (opened, accepted) = await LoopbackPair.OpenUpstreamAsync();
        await using var _ = opened;
        opened.InlineContinuations = true;
        accepted.Dispose(); // the server goes away before answering
        await using var ssl = new SslStream(opened, leaveInnerStreamOpen: true);

        await Assert.ThrowsAnyAsync<Exception>(() =>
            LoopStream.HandshakeOffLoopAsync(opened, () => ssl.AuthenticateAsClientAsync(ClientOptions(_ => { }))).WaitAsync(Patience));

        Assert.True(opened.InlineContinuations);
    }

    [Fact]
    public async Task Handshake_CalledOnALoopThread_StartsOnTheThreadPool()
    {
        // As a listener's accept runs on its loop's thread in the data plane, and routes the connection from there.
        var (opened, accepted) = await LoopbackPair.OpenUpstreamAsync();
        await using var _ = opened;
        using var __ = accepted;
        opened.InlineContinuations = true;
        bool? calledOnLoop = null, startedOnLoop = null;

        async Task HandshakeAfterAReadAsync()
        {
            await opened.ReadAsync(new byte[1]).ConfigureAwait(false); // goes on where the loop completes it
            calledOnLoop = SocketLoop.OnLoopThread;
            await LoopStream.HandshakeOffLoopAsync(opened, () =>
            {
                startedOnLoop = SocketLoop.OnLoopThread;
                return Task.CompletedTask;
            }).ConfigureAwait(false);
        }
        var running = HandshakeAfterAReadAsync();
        await Task.Delay(50);
        await accepted.SendAsync("x"u8.ToArray());
        await running.WaitAsync(Patience);

        Assert.True(calledOnLoop, "premise: the read's continuation ran on the loop's thread");
        Assert.False(startedOnLoop);
        Assert.True(opened.InlineContinuations);
    }

    /// <summary>A handshake from a loop stream with inline continuations; whether the server's certificate was checked on the loop's thread.</summary>
    private static async Task<bool> ServerCheckedOnLoopAsync(bool offLoop)
    {
        var (opened, accepted) = await LoopbackPair.OpenUpstreamAsync();
        await using var _ = opened;
        using var __ = accepted;
        opened.InlineContinuations = true;
        // The server answers late, so the client's read of its answer surely waits for the loop (and is completed by it).
        var server = ServeAsync(accepted, answerAfter: TimeSpan.FromMilliseconds(100));
        await using var ssl = new SslStream(opened, leaveInnerStreamOpen: true);
        var onLoop = false;
        var options = ClientOptions(checkedOnLoop => onLoop = checkedOnLoop);

        var handshake = offLoop
            ? LoopStream.HandshakeOffLoopAsync(opened, () => ssl.AuthenticateAsClientAsync(options))
            : ssl.AuthenticateAsClientAsync(options);
        await handshake.WaitAsync(Patience);
        await server.WaitAsync(Patience);
        return onLoop;
    }

    private static SslClientAuthenticationOptions ClientOptions(Action<bool> checkedOnLoop) => new()
    {
        TargetHost = "server.test",
        RemoteCertificateValidationCallback = (_, _, _, _) =>
        {
            checkedOnLoop(SocketLoop.OnLoopThread);
            return true;
        },
    };

    private static async Task ServeAsync(Socket accepted, TimeSpan answerAfter = default)
    {
        await Task.Delay(answerAfter);
        using var certificate = TlsTestServer.Certificate("server.test");
        await using var ssl = new SslStream(new NetworkStream(accepted, ownsSocket: false));
        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate });
    }
}
