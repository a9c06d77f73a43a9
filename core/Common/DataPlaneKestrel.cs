using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace FedMesh.Core.Common;

/// <summary>
/// Kestrel transport settings shared by the data-plane listeners (proxy, gateway). Measured with
/// <c>bench/dataplane/run.sh</c>.
/// </summary>
public static class DataPlaneKestrel
{
    /// <summary>
    /// The switch the data-plane processes are started with (see the linker's <c>DataPlaneEnvironment</c>
    /// and the images in <c>deploy/docker</c>): socket continuations run on the epoll thread.
    /// </summary>
    public const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// How long the mTLS listeners (gateway, proxy inbound) keep an idle connection: longer than the callers' pools
    /// keep one (<see cref="Identity.PeerHandler.MeshIdleTimeout"/>), so the caller closes first and never sends on a
    /// connection the listener is closing.
    /// </summary>
    public static readonly TimeSpan MeshListenerKeepAlive = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Uses the socket transport, and when socket completions run inline also runs Kestrel's request
    /// processing inline on the thread that read the bytes, instead of handing every read and write
    /// to the thread pool: on a one-core sidecar each hand-off is a context switch. Safe because the
    /// data-plane handlers never block.
    /// </summary>
    public static IWebHostBuilder UseDataPlaneSockets(this IWebHostBuilder builder)
    {
        var inline = Environment.GetEnvironmentVariable(InlineCompletionsVariable) == "1";
        return builder.UseSockets(options => options.UnsafePreferInlineScheduling = inline);
    }
}
