using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Gateway;

/// <summary>Every log line the gateway writes, with stable event ids.</summary>
internal static partial class GatewayLog
{
    [LoggerMessage(1, LogLevel.Information, "gateway of cluster {Cluster} listening on {Listen} (mTLS), admin on {Admin}")]
    public static partial void Listening(ILogger logger, string cluster, string listen, string admin);

    [LoggerMessage(2, LogLevel.Information, "gateway ready: snapshot {Version}, {Services} services, linked clusters [{Linked}]")]
    public static partial void Ready(ILogger logger, string version, int services, string linked);

    [LoggerMessage(3, LogLevel.Information, "snapshot {Version}: {Services} services, linked clusters [{Linked}]")]
    public static partial void SnapshotApplied(ILogger logger, string version, int services, string linked);

    [LoggerMessage(4, LogLevel.Error, "snapshot {Version} could not be applied, still serving the previous one")]
    public static partial void SnapshotFailed(ILogger logger, string version, Exception exception);

    [LoggerMessage(5, LogLevel.Warning, "service {Service} listed twice in snapshot {Version}; keeping the first")]
    public static partial void DuplicateService(ILogger logger, string service, string version);

    [LoggerMessage(6, LogLevel.Warning, "skipping endpoint {Address} of {Service}: {Reason}")]
    public static partial void EndpointSkipped(ILogger logger, string service, string address, string reason);

    [LoggerMessage(7, LogLevel.Warning, "refused client certificate from {Remote}: {Reason}")]
    public static partial void PeerRefused(ILogger logger, string remote, string reason);

    [LoggerMessage(8, LogLevel.Information, "refused {Caller}: cluster {CallerCluster} is not linked to this cluster")]
    public static partial void NotLinked(ILogger logger, string caller, string callerCluster);

    [LoggerMessage(9, LogLevel.Debug, "{Caller} asked for {Service}, which is not exported")]
    public static partial void NotExported(ILogger logger, string caller, string service);

    [LoggerMessage(10, LogLevel.Warning, "forwarding to {Destination} for {Service} failed: {Error}: {Reason}")]
    public static partial void UpstreamFailed(ILogger logger, string destination, string service, ForwarderError error, string reason);

    [LoggerMessage(11, LogLevel.Information, "certificate renewed; rebuilt upstream clients")]
    public static partial void ClientsRebuilt(ILogger logger);

    [LoggerMessage(12, LogLevel.Information, "gateway of cluster {Cluster} stopped")]
    public static partial void Stopped(ILogger logger, string cluster);
}
