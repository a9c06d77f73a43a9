using FedMesh.Core.Common;
using FedMesh.Core.Identity;
using FedMesh.Core.Transport;
using FedMesh.Gateway.Configuration;
using FedMesh.Gateway.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace FedMesh.Gateway;

/// <summary>Entry point of <c>fedmesh component gateway</c>: a cluster's door for traffic from linked clusters.</summary>
public static class GatewayHost
{
    /// <summary>Exit code for a clean stop.</summary>
    public const int Success = 0;

    /// <summary>Exit code when the gateway could not start or failed (unreachable controller refused, port taken).</summary>
    public const int Failure = 1;

    /// <summary>Exit code for unusable options.</summary>
    public const int Usage = 2;

    /// <summary>
    /// Runs the gateway until <paramref name="cancellationToken"/> fires. Options come from
    /// <paramref name="args"/> (<c>--Cluster --TrustDomain --Listen --AdminListen --Controller --TokenFile</c>);
    /// every problem with them is reported in one message and the exit code is 2.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = GatewayOptionsBinder.Bind(args, out var problems);
        GatewayOptionsValidator.Validate(options, problems);
        BusyPolling.FromEnvironment(problems);
        // Read once here only to report an empty or unreadable file as a usage error; the runtime reads it on every Certify.
        if (problems.Count == 0) ReadToken(options.TokenFile, problems);
        if (problems.Count > 0)
        {
            await Console.Error.WriteLineAsync("error: " + GatewayOptionsValidator.Describe(problems)).ConfigureAwait(false);
            return Usage;
        }
        using var loggers = DataPlaneLogging.CreateLoggerFactory();
        var logger = loggers.CreateLogger("FedMesh.Gateway");
        try
        {
            await using var runtime = await GatewayRuntime.StartAsync(options, CertifyToken.FromFile(options.TokenFile), loggers, TimeProvider.System, cancellationToken)
                .ConfigureAwait(false);
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Success;
        }
        catch (IdentityException e)
        {
            logger.LogError("gateway of cluster {Cluster} cannot get its certificate: {Error}", options.Cluster, e.Message);
            return Failure;
        }
        catch (IOException e)
        {
            logger.LogError("gateway of cluster {Cluster} cannot start: {Error}", options.Cluster, e.Message);
            return Failure;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "gateway of cluster {Cluster} failed", options.Cluster);
            return Failure;
        }
        return Success;
    }

    private static void ReadToken(string path, List<string> problems)
    {
        try
        {
            var token = File.ReadAllText(path).Trim();
            if (token.Length == 0)
            {
                problems.Add($"--TokenFile '{path}' is empty; it must hold the cluster's bootstrap token or the pod's service-account token");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"--TokenFile '{path}' cannot be read: {e.Message}");
        }
    }
}
