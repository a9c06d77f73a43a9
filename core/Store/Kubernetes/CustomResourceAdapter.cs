using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using FedMesh.Core.Resources;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace FedMesh.Core.Store.Kubernetes;

/// <summary>
/// Link, TrafficSplit and FailoverPolicy as custom resources of group fedmesh.io, version v1alpha1,
/// through the custom-objects API. Spec and status are our own classes in camelCase JSON, exactly
/// what <c>kubectl apply</c> of the same YAML stores. The CRDs declare no status subresource, so an
/// update writes spec and status together, as the store contract says.
/// </summary>
internal sealed class CustomResourceAdapter(IKubernetes client, string cluster, ResourceKind kind)
    : KindAdapter<CustomObject, CustomObjectList>(cluster, kind)
{
    public const string Group = "fedmesh.io";
    public const string Version = "v1alpha1";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private string Plural => Kind.Plural;

    protected override Task<HttpOperationResponse<CustomObjectList>> ListCallAsync(string? ns, CancellationToken ct) =>
        ns is null
            ? client.CustomObjects.ListClusterCustomObjectWithHttpMessagesAsync<CustomObjectList>(Group, Version, Plural, cancellationToken: ct)
            : client.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<CustomObjectList>(Group, Version, ns, Plural, cancellationToken: ct);

    protected override async IAsyncEnumerable<(k8s.WatchEventType Type, CustomObject Item)> WatchCallAsync(string? ns, string rv, int timeout, Action<Exception> onError, [EnumeratorCancellation] CancellationToken ct)
    {
        var events = ns is null
            ? client.CustomObjects.WatchListClusterCustomObjectAsync(Group, Version, Plural, allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct)
            : client.CustomObjects.WatchListNamespacedCustomObjectAsync(Group, Version, ns, Plural, allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct);
        await foreach (var (type, item) in events.ConfigureAwait(false))
        {
            // The untyped watch hands out each object as a JsonElement; read it as our typed envelope.
            var element = item is JsonElement json ? json : JsonSerializer.SerializeToElement(item, Json);
            yield return (type, KubernetesJson.Deserialize<CustomObject>(element.GetRawText()));
        }
    }

    protected override async Task<CustomObject> ReadCallAsync(string ns, string name, CancellationToken ct) =>
        (await client.CustomObjects.GetNamespacedCustomObjectWithHttpMessagesAsync<CustomObject>(Group, Version, ns, Plural, name, cancellationToken: ct).ConfigureAwait(false)).Body;

    protected override async Task<CustomObject> CreateCallAsync(CustomObject body, string ns, CancellationToken ct) =>
        (await client.CustomObjects.CreateNamespacedCustomObjectWithHttpMessagesAsync<CustomObject>(body, Group, Version, ns, Plural, cancellationToken: ct).ConfigureAwait(false)).Body;

    protected override async Task<CustomObject> ReplaceCallAsync(CustomObject body, string ns, string name, CancellationToken ct) =>
        (await client.CustomObjects.ReplaceNamespacedCustomObjectWithHttpMessagesAsync<CustomObject>(body, Group, Version, ns, Plural, name, cancellationToken: ct).ConfigureAwait(false)).Body;

    protected override async Task DeleteCallAsync(string ns, string name, V1DeleteOptions options, CancellationToken ct) =>
        (await client.CustomObjects.DeleteNamespacedCustomObjectWithHttpMessagesAsync(Group, Version, ns, Plural, name, options, cancellationToken: ct).ConfigureAwait(false)).Dispose();

    protected override Resource ToResource(CustomObject item)
    {
        var resource = (Resource)Activator.CreateInstance(Kind.Type)!;
        resource.Metadata = MetadataMapping.FromKubernetes(item.Metadata);
        var type = Kind.Type;
        if (item.Spec is { ValueKind: JsonValueKind.Object } spec)
            type.GetProperty("Spec")!.SetValue(resource, spec.Deserialize(type.GetProperty("Spec")!.PropertyType, Json));
        if (item.Status is { ValueKind: JsonValueKind.Object } status)
            type.GetProperty("Status")!.SetValue(resource, status.Deserialize(type.GetProperty("Status")!.PropertyType, Json));
        return resource;
    }

    protected override CustomObject FromResource(Resource resource)
    {
        var type = resource.GetType();
        var spec = type.GetProperty("Spec")!.GetValue(resource);
        var status = type.GetProperty("Status")!.GetValue(resource);
        return new CustomObject
        {
            ApiVersion = $"{Group}/{Version}",
            Kind = Kind.Kind,
            Metadata = MetadataMapping.ToKubernetes(resource),
            Spec = spec is null ? null : JsonSerializer.SerializeToElement(spec, spec.GetType(), Json),
            Status = status is null ? null : JsonSerializer.SerializeToElement(status, status.GetType(), Json),
        };
    }
}
