using FedMesh.Core.Identity;
using FedMesh.Core.Kubernetes;
using FedMesh.Core.Resources;

namespace FedMesh.Core.Store.Kubernetes.Workloads;

/// <summary>
/// Joins Services' EndpointSlices with injected Pods into one Endpoints object per Service: an entry for every
/// injected pod a slice of the Service names, at the pod's IP and the sidecar's inbound port, with the pod's SPIFFE
/// identity (from its ServiceAccount), its instance id, the slice's zone and readiness. Slice endpoints of pods that are
/// not injected (not among the watched pods), or not given an IP yet, give nothing. A pod named by several slices of
/// one Service (one per address family) is one entry, ready only if every slice says so. Not thread-safe: one watch
/// loop owns it.
/// </summary>
internal sealed class WorkloadEndpointsJoin(string cluster, string trustDomain)
{
    private readonly Dictionary<(string Ns, string Name), ServiceSlice> _slices = new();
    private readonly Dictionary<(string Ns, string Name), InjectedPod> _pods = new();
    private readonly Dictionary<(string Ns, string Service), HashSet<string>> _slicesOfService = new();
    private readonly Dictionary<(string Ns, string Pod), HashSet<string>> _slicesOfPod = new();

    /// <summary>Every Service that has at least one slice.</summary>
    public IEnumerable<(string Ns, string Service)> Services => _slicesOfService.Keys;

    /// <summary>Takes in a change of a slice or pod; returns the Services whose endpoints it may have changed.</summary>
    public IReadOnlyCollection<(string Ns, string Service)> Apply(bool deleted, Resource item) => item switch
    {
        ServiceSlice slice => ApplySlice(deleted, slice),
        InjectedPod pod => ApplyPod(deleted, pod),
        _ => throw new ArgumentException($"{item} is neither an EndpointSlice nor a Pod", nameof(item)),
    };

    /// <summary>The Service's endpoints now, or null when no injected pod backs it.</summary>
    public Endpoints? Build(string @namespace, string service)
    {
        if (!_slicesOfService.TryGetValue((@namespace, service), out var sliceNames))
            return null;
        var byPod = new SortedDictionary<string, EndpointEntry>(StringComparer.Ordinal);
        foreach (var sliceName in sliceNames)
        {
            foreach (var member in _slices[(@namespace, sliceName)].Members)
            {
                if (byPod.TryGetValue(member.Pod, out var seen))
                {
                    seen.Ready &= member.Ready;
                    seen.Zone ??= member.Zone;
                }
                else if (Entry(@namespace, member) is { } entry)
                    byPod[member.Pod] = entry;
            }
        }
        if (byPod.Count == 0)
            return null;
        var endpoints = new Endpoints { Metadata = new ObjectMeta { Name = service, Namespace = @namespace } };
        endpoints.Spec.Endpoints.AddRange(byPod.Values);
        return endpoints;
    }

    private EndpointEntry? Entry(string @namespace, SliceMember member)
    {
        if (!_pods.TryGetValue((@namespace, member.Pod), out var pod) || pod.PodIp is null)
            return null;
        // A ServiceAccount that is no DNS label cannot be a SPIFFE id: the sidecar gets no certificate, so no endpoint either.
        var identity = new SpiffeId(trustDomain, cluster, @namespace, pod.ServiceAccount);
        if (identity.Validate() is not null)
            return null;
        return new EndpointEntry
        {
            Address = EndpointSliceMapping.Join(pod.PodIp, InstallDefaults.ProxyInboundPort),
            Instance = SidecarInjector.InstanceOf(member.Pod, @namespace),
            Identity = identity.ToString(),
            Cluster = cluster,
            Zone = member.Zone,
            Ready = member.Ready,
            Weight = 1,
        };
    }

    private HashSet<(string, string)> ApplySlice(bool deleted, ServiceSlice slice)
    {
        var key = (slice.Namespace, slice.Name);
        var affected = new HashSet<(string, string)>();
        if (_slices.Remove(key, out var old))
        {
            affected.Add((old.Namespace, old.Service));
            Index(old, add: false);
        }
        if (!deleted)
        {
            _slices[key] = slice;
            affected.Add((slice.Namespace, slice.Service));
            Index(slice, add: true);
        }
        return affected;
    }

    private HashSet<(string, string)> ApplyPod(bool deleted, InjectedPod pod)
    {
        var key = (pod.Namespace, pod.Name);
        if (deleted)
            _pods.Remove(key);
        else
            _pods[key] = pod;
        var affected = new HashSet<(string, string)>();
        if (_slicesOfPod.TryGetValue(key, out var sliceNames))
            foreach (var sliceName in sliceNames)
                affected.Add((pod.Namespace, _slices[(pod.Namespace, sliceName)].Service));
        return affected;
    }

    private void Index(ServiceSlice slice, bool add)
    {
        Update(_slicesOfService, (slice.Namespace, slice.Service), slice.Name, add);
        foreach (var member in slice.Members)
            Update(_slicesOfPod, (slice.Namespace, member.Pod), slice.Name, add);
    }

    private static void Update<TKey>(Dictionary<TKey, HashSet<string>> index, TKey key, string sliceName, bool add) where TKey : notnull
    {
        if (add)
        {
            if (!index.TryGetValue(key, out var names))
                index[key] = names = new HashSet<string>(StringComparer.Ordinal);
            names.Add(sliceName);
        }
        else if (index.TryGetValue(key, out var names) && names.Remove(sliceName) && names.Count == 0)
            index.Remove(key);
    }
}
