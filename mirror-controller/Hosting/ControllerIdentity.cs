namespace FedMesh.MirrorController.Hosting;

/// <summary>Which cluster of which trust domain this controller serves.</summary>
internal sealed record ControllerIdentity(string Cluster, string TrustDomain);
