using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy;

/// <summary>Every log line the proxy writes, with stable event ids. Nothing per request below Warning.</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(1, LogLevel.Information, "proxy {Instance} ({Identity}) started: outbound {Outbound}, inbound {Inbound}, admin {Admin}")]
    public static partial void Started(ILogger logger, string instance, string identity, string outbound, string inbound, string admin);

    [LoggerMessage(2, LogLevel.Information, "proxy ready")]
    public static partial void Ready(ILogger logger);

    [LoggerMessage(3, LogLevel.Information, "proxy stopping")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(10, LogLevel.Debug, "routing snapshot {Version} applied; services: {Services}")]
    public static partial void SnapshotApplied(ILogger logger, string version, string services);

    [LoggerMessage(11, LogLevel.Error, "routing snapshot {Version} rejected; still serving the previous one")]
    public static partial void SnapshotRejected(ILogger logger, string version, Exception exception);

    [LoggerMessage(12, LogLevel.Warning, "snapshot {Version} lists service {Service} twice; the first one is used")]
    public static partial void DuplicateService(ILogger logger, string service, string version);

    [LoggerMessage(13, LogLevel.Warning, "endpoint '{Address}' of service {Service}.{Namespace} skipped: {Reason}")]
    public static partial void EndpointSkipped(ILogger logger, string service, string @namespace, string address, string reason);

    [LoggerMessage(14, LogLevel.Warning, "route of {Service} names backend {Backend}, which snapshot {Version} does not hold; it gets no traffic")]
    public static partial void RouteBackendUnknown(ILogger logger, string service, string backend, string version);

    [LoggerMessage(20, LogLevel.Warning, "request to {Service} via {Address} ({Identity}) failed: {Error}: {Reason} ({Suppressed} similar failures not logged)")]
    public static partial void UpstreamFailed(ILogger logger, string service, string address, string identity, ForwarderError error, string reason, int suppressed);

    [LoggerMessage(21, LogLevel.Warning, "request to the app at {App} failed: {Error}: {Reason} ({Suppressed} similar failures not logged)")]
    public static partial void AppFailed(ILogger logger, string app, ForwarderError error, string reason, int suppressed);

    [LoggerMessage(22, LogLevel.Warning, "inbound connection refused: peer {Peer}: {Reason}")]
    public static partial void InboundPeerRejected(ILogger logger, string peer, string reason);

    [LoggerMessage(31, LogLevel.Information, "endpoint {Address} registered in Endpoints {Namespace}/{Service}")]
    public static partial void Registered(ILogger logger, string address, string @namespace, string service);

    [LoggerMessage(32, LogLevel.Warning, "could not register in Endpoints {Namespace}/{Service}: {Reason}; retrying")]
    public static partial void RegistrationFailed(ILogger logger, string @namespace, string service, string reason);

    [LoggerMessage(33, LogLevel.Information, "endpoint {Address} removed from Endpoints {Namespace}/{Service}")]
    public static partial void Deregistered(ILogger logger, string address, string @namespace, string service);

    [LoggerMessage(34, LogLevel.Warning, "could not remove our endpoint from Endpoints {Namespace}/{Service}: {Reason}")]
    public static partial void DeregistrationFailed(ILogger logger, string @namespace, string service, string reason);

    [LoggerMessage(35, LogLevel.Information, "waiting for the first discovery snapshot from {Controller}")]
    public static partial void WaitingForSnapshot(ILogger logger, string controller);
}
