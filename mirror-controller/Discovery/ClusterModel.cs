using FedMesh.Core.Resources;

namespace FedMesh.MirrorController.Discovery;

/// <summary>
/// The discovery server's view of its own cluster, fed by one watch per kind, plus one per workload endpoint source
/// (on Kubernetes: injected pods behind Services' EndpointSlices; none in the local federation).
/// </summary>
internal sealed class ClusterModel
{
    public ClusterModel(Action changed, int workloadSources = 0)
    {
        Services = new ResourceSet<Service>(changed);
        Endpoints = new ResourceSet<Endpoints>(changed);
        Links = new ResourceSet<Link>(changed);
        TrafficSplits = new ResourceSet<TrafficSplit>(changed);
        FailoverPolicies = new ResourceSet<FailoverPolicy>(changed);
        WorkloadEndpoints = Enumerable.Range(0, workloadSources).Select(_ => new ResourceSet<Endpoints>(changed)).ToList();
    }

    public ResourceSet<Service> Services { get; }

    /// <summary>The store's Endpoints: mirrors, and locally what each proxy registers.</summary>
    public ResourceSet<Endpoints> Endpoints { get; }
    public ResourceSet<Link> Links { get; }
    public ResourceSet<TrafficSplit> TrafficSplits { get; }
    public ResourceSet<FailoverPolicy> FailoverPolicies { get; }

    /// <summary>One set per workload endpoint source, in the order the sources were given.</summary>
    public IReadOnlyList<ResourceSet<Endpoints>> WorkloadEndpoints { get; }

    public bool Synced => Services.Synced && Endpoints.Synced && Links.Synced && TrafficSplits.Synced && FailoverPolicies.Synced
        && WorkloadEndpoints.All(w => w.Synced);

    /// <summary>A consistent-enough copy of every kind (each set is itself immutable).</summary>
    public ModelView Capture() => new(Services.Items.Values, MergedEndpoints(), Links.Items.Values, TrafficSplits.Items.Values, FailoverPolicies.Items.Values);

    /// <summary>
    /// The store's Endpoints with every workload source's added: a service named in both (say, a selector Service whose
    /// store Endpoints someone also wrote by hand) gets the entries of both.
    /// </summary>
    private IReadOnlyDictionary<string, Endpoints> MergedEndpoints()
    {
        var stored = Endpoints.Items;
        if (WorkloadEndpoints.All(w => w.Items.IsEmpty))
            return stored;
        var merged = stored.ToBuilder();
        foreach (var source in WorkloadEndpoints)
        {
            foreach (var (key, found) in source.Items)
            {
                if (!merged.TryGetValue(key, out var existing))
                {
                    merged[key] = found;
                    continue;
                }
                // The sets hold shared objects: combine into a new one, never into either.
                var combined = new Endpoints { Metadata = existing.Metadata };
                combined.Spec.Endpoints.AddRange(existing.Spec.Endpoints);
                combined.Spec.Endpoints.AddRange(found.Spec.Endpoints);
                merged[key] = combined;
            }
        }
        return merged.ToImmutable();
    }
}

/// <summary>The model at one moment; endpoints by "namespace/name".</summary>
internal sealed record ModelView(
    IEnumerable<Service> Services,
    IReadOnlyDictionary<string, Endpoints> Endpoints,
    IEnumerable<Link> Links,
    IEnumerable<TrafficSplit> TrafficSplits,
    IEnumerable<FailoverPolicy> FailoverPolicies);
