using FedMesh.Core.Resources;

namespace FedMesh.MirrorController.Discovery;

/// <summary>The discovery server's view of its own cluster, fed by one watch per kind.</summary>
internal sealed class ClusterModel
{
    public ClusterModel(Action changed)
    {
        Services = new ResourceSet<Service>(changed);
        Endpoints = new ResourceSet<Endpoints>(changed);
        Links = new ResourceSet<Link>(changed);
        TrafficSplits = new ResourceSet<TrafficSplit>(changed);
        FailoverPolicies = new ResourceSet<FailoverPolicy>(changed);
    }

    public ResourceSet<Service> Services { get; }
    public ResourceSet<Endpoints> Endpoints { get; }
    public ResourceSet<Link> Links { get; }
    public ResourceSet<TrafficSplit> TrafficSplits { get; }
    public ResourceSet<FailoverPolicy> FailoverPolicies { get; }

    public bool Synced => Services.Synced && Endpoints.Synced && Links.Synced && TrafficSplits.Synced && FailoverPolicies.Synced;

    /// <summary>A consistent-enough copy of every kind (each set is itself immutable).</summary>
    public ModelView Capture() => new(Services.Items.Values, Endpoints.Items, Links.Items.Values, TrafficSplits.Items.Values, FailoverPolicies.Items.Values);
}

/// <summary>The model at one moment; endpoints by "namespace/name".</summary>
internal sealed record ModelView(
    IEnumerable<Service> Services,
    IReadOnlyDictionary<string, Endpoints> Endpoints,
    IEnumerable<Link> Links,
    IEnumerable<TrafficSplit> TrafficSplits,
    IEnumerable<FailoverPolicy> FailoverPolicies);
