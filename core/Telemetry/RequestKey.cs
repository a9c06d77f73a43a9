namespace FedMesh.Core.Telemetry;

/// <summary>What requests are counted by: the service asked for, the backend chosen, and where from and to.</summary>
public readonly record struct RequestKey(string Namespace, string Service, string Backend, string SourceCluster, string DestinationCluster);
