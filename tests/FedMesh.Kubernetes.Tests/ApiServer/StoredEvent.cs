using System.Text.Json.Nodes;

namespace FedMesh.Kubernetes.Tests.ApiServer;

/// <summary>One change in the server's history: the type the watch sends and the object after it.</summary>
internal sealed record StoredEvent(long ResourceVersion, string Type, string Group, string Resource, string? Namespace, JsonObject Object);
