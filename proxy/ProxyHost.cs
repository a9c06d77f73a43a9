using System.Runtime.InteropServices;
using FedMesh.Core.Common;
using FedMesh.Core.Identity;
using FedMesh.Core.Transport;
using FedMesh.Proxy.Configuration;
using FedMesh.Proxy.Hosting;
using Microsoft.Extensions.Logging;

namespace FedMesh.Proxy;

/// <summary>Entry point the <c>fedmesh</c> CLI uses to run a workload proxy.</summary>
public static class ProxyHost
{
    /// <summary>
    /// Runs a proxy configured by <paramref name="args"/> (<c>--Cluster east --Service echo ...</c>, see
    /// <see cref="ProxyOptions"/>) until <paramref name="cancellationToken"/> is cancelled or the process gets
    /// SIGTERM/SIGINT; then removes its endpoint from the store and drains. Returns 0 after a clean stop,
    /// 1 when the proxy could not start, 2 when the options are invalid (every problem is printed).
    /// </summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = ProxyOptionsBinder.Bind(args, out var errors);
        BusyPolling.FromEnvironment(errors);
        if (errors.Count > 0)
        {
            await Console.Error.WriteLineAsync("fedmesh proxy: invalid options:\n  - " + string.Join("\n  - ", errors)).ConfigureAwait(false);
            return 2;
        }

        using var loggerFactory = DataPlaneLogging.CreateLoggerFactory();
        var logger = loggerFactory.CreateLogger("FedMesh.Proxy");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);

        await using var runtime = new ProxyRuntime(options, loggerFactory, TimeProvider.System);
        try
        {
            await runtime.StartAsync(stop.Token).ConfigureAwait(false);
            await Task.Delay(Timeout.InfiniteTimeSpan, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is IdentityException or IOException or UnauthorizedAccessException)
        {
            // Expected failures (refused token, port in use, unreadable file): the message says it all.
            logger.LogError("proxy {Instance} could not start: {Error}", options.Instance, e.Message);
            await runtime.StopAsync().ConfigureAwait(false);
            return 1;
        }
        catch (Exception e)
        {
            logger.LogError(e, "proxy {Instance} failed: {Error}", options.Instance, e.Message);
            await runtime.StopAsync().ConfigureAwait(false);
            return 1;
        }
        await runtime.StopAsync().ConfigureAwait(false);
        return 0;

        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // we stop gracefully ourselves
            stop.Cancel();
        }
    }
}
