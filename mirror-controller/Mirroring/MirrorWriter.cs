using FedMesh.Core.Resources;
using FedMesh.Core.Store;

namespace FedMesh.MirrorController.Mirroring;

/// <summary>
/// Writes mirror Services and Endpoints to this cluster's store. Writes only what differs, and never
/// touches an object that is not a mirror from the same cluster (a user's service with the same name wins).
/// </summary>
internal sealed class MirrorWriter(IClusterStore store)
{
    /// <summary>
    /// Makes the mirror of <paramref name="remote"/> look as planned. <paramref name="currentService"/> and
    /// <paramref name="currentEndpoints"/> are what the caller already read (null: read them here).
    /// Returns false when the name is taken by something that is not this link's mirror.
    /// </summary>
    public async Task<bool> EnsureAsync(Link link, Service remote, Service? currentService, Endpoints? currentEndpoints, bool alreadyRead, CancellationToken cancellationToken)
    {
        var desiredService = MirrorPlan.BuildService(link, remote);
        var desiredEndpoints = MirrorPlan.BuildEndpoints(link, remote);
        var (ns, name, target) = (desiredService.Namespace, desiredService.Name, link.Spec.TargetCluster);
        if (!alreadyRead)
        {
            currentService = await store.GetAsync<Service>(ns, name, cancellationToken).ConfigureAwait(false);
            currentEndpoints = await store.GetAsync<Endpoints>(ns, name, cancellationToken).ConfigureAwait(false);
        }
        if (currentService is not null && !MirrorPlan.IsMirrorFrom(currentService, target))
            return false;
        if (currentEndpoints is not null && !MirrorPlan.IsMirrorFrom(currentEndpoints, target))
            return false;

        // The service first: a crash before its endpoints leaves a mirror the next pass completes.
        if (currentService is null)
            await store.CreateAsync(desiredService, cancellationToken).ConfigureAwait(false);
        else if (!MirrorPlan.SameService(currentService, desiredService))
            await store.UpdateAsync(Replace(currentService, desiredService), cancellationToken).ConfigureAwait(false);

        if (currentEndpoints is null)
            await store.CreateAsync(desiredEndpoints, cancellationToken).ConfigureAwait(false);
        else if (!MirrorPlan.SameEndpoints(currentEndpoints, desiredEndpoints))
            await store.UpdateAsync(Replace(currentEndpoints, desiredEndpoints), cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Deletes the mirror <paramref name="name"/> if it is one from <paramref name="targetCluster"/>.</summary>
    public async Task DeleteAsync(string @namespace, string name, string targetCluster, CancellationToken cancellationToken)
    {
        var service = await store.GetAsync<Service>(@namespace, name, cancellationToken).ConfigureAwait(false);
        if (service is not null)
            await DeleteServiceAsync(service, targetCluster, cancellationToken).ConfigureAwait(false);
        var endpoints = await store.GetAsync<Endpoints>(@namespace, name, cancellationToken).ConfigureAwait(false);
        if (endpoints is not null)
            await DeleteEndpointsAsync(endpoints, targetCluster, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteServiceAsync(Service service, string targetCluster, CancellationToken cancellationToken)
    {
        if (!MirrorPlan.IsMirrorFrom(service, targetCluster))
            return;
        // With the version read: if it changed meanwhile, the conflict makes the dispatcher decide again.
        await store.DeleteAsync<Service>(service.Namespace, service.Name, service.Metadata.ResourceVersion, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteEndpointsAsync(Endpoints endpoints, string targetCluster, CancellationToken cancellationToken)
    {
        if (!MirrorPlan.IsMirrorFrom(endpoints, targetCluster))
            return;
        await store.DeleteAsync<Endpoints>(endpoints.Namespace, endpoints.Name, endpoints.Metadata.ResourceVersion, cancellationToken).ConfigureAwait(false);
    }

    private static T Replace<T>(T current, T desired) where T : Resource
    {
        desired.Metadata.ResourceVersion = current.Metadata.ResourceVersion;
        desired.Metadata.Annotations = current.Metadata.Annotations;
        desired.Metadata.CreationTimestamp = current.Metadata.CreationTimestamp;
        return desired;
    }
}
