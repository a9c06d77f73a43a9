using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace FedMesh.Core.Store.Kubernetes;

/// <summary>A fedmesh.io custom resource as the API server sends it: typed metadata, spec and status kept as JSON.</summary>
internal sealed class CustomObject : IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = "";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "";
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public JsonElement? Spec { get; set; }
    [JsonPropertyName("status")] public JsonElement? Status { get; set; }
}

/// <summary>A list of <see cref="CustomObject"/>.</summary>
internal sealed class CustomObjectList : IKubernetesObject<V1ListMeta>, IItems<CustomObject>
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = "";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "";
    [JsonPropertyName("metadata")] public V1ListMeta Metadata { get; set; } = new();
    [JsonPropertyName("items")] public IList<CustomObject> Items { get; set; } = [];
}
