using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FedMesh.Core.Identity;

public sealed partial class WorkloadIdentity
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxObtainBackoff = TimeSpan.FromSeconds(5);

    /// <summary>Obtains a first certificate from the controller at <paramref name="controllerAddress"/> and keeps it renewed until disposed.</summary>
    public static Task<WorkloadIdentity> ObtainAsync(string controllerAddress, SpiffeId id, string token, TimeProvider time,
        CancellationToken cancellationToken) =>
        ObtainAsync(controllerAddress, id, token, time, NullLogger.Instance, cancellationToken);

    /// <summary>Obtains a first certificate presenting a fixed <paramref name="token"/>; see the <see cref="CertifyToken"/> overload.</summary>
    public static Task<WorkloadIdentity> ObtainAsync(string controllerAddress, SpiffeId id, string token, TimeProvider time,
        ILogger logger, CancellationToken cancellationToken) =>
        ObtainAsync(controllerAddress, id, CertifyToken.Fixed(token), time, logger, cancellationToken);

    /// <summary>
    /// Obtains a first certificate from the controller's Identity service (cleartext HTTP/2 on loopback or TLS) and keeps
    /// it renewed until disposed, reading <paramref name="token"/> afresh for every Certify call. While the controller is
    /// unreachable it retries with backoff until <paramref name="cancellationToken"/> fires; a refusal (wrong token,
    /// foreign identity) or an unreadable token file throws <see cref="IdentityException"/> at once.
    /// </summary>
    public static async Task<WorkloadIdentity> ObtainAsync(string controllerAddress, SpiffeId id, CertifyToken token, TimeProvider time,
        ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        if (id.Validate() is { } invalid)
        {
            throw new IdentityException($"cannot obtain '{id}': {invalid}");
        }
        var certifier = new IdentityCertifier(controllerAddress, id, token, time);
        try
        {
            var backoff = FirstBackoff;
            while (true)
            {
                try
                {
                    var material = await certifier.CertifyAsync(cancellationToken).ConfigureAwait(false);
                    var identity = new WorkloadIdentity(id, material, certifier, time, logger);
                    logger.LogInformation("identity {Id} obtained from {Controller}, valid until {NotAfter:u}",
                        id, controllerAddress, material.NotAfter);
                    identity.StartRenewal();
                    return identity;
                }
                catch (Exception e) when (IsRetryable(e) && !cancellationToken.IsCancellationRequested)
                {
                    logger.LogWarning("cannot reach the controller at {Controller} to certify {Id} ({Error}); retrying in {Delay:F1}s",
                        controllerAddress, id, e.Message, backoff.TotalSeconds);
                }
                await Task.Delay(Jitter(backoff), time, cancellationToken).ConfigureAwait(false);
                backoff = Min(backoff * 2, MaxObtainBackoff);
            }
        }
        catch
        {
            certifier.Dispose();
            throw;
        }
    }

    private static bool IsRetryable(Exception e) => e switch
    {
        RpcException rpc => IdentityCertifier.IsTransient(rpc.StatusCode),
        HttpRequestException or IOException => true,
        OperationCanceledException => true, // the per-call timeout; the caller's token is checked separately
        _ => false,
    };

    private static TimeSpan Jitter(TimeSpan delay) => delay * (0.75 + (Random.Shared.NextDouble() * 0.5));

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
