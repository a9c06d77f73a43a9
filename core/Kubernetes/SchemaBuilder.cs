using System.Text.Json.Nodes;

namespace FedMesh.Core.Kubernetes;

/// <summary>Small constructors for OpenAPI v3 structural schema nodes, so the CRD schemas read like the validators.</summary>
internal static class SchemaBuilder
{
    public const string DnsLabelPattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
    public const string DurationPattern = "^(0|([0-9]+(\\.[0-9]+)?(h|m|s|ms|us|µs|ns))+)$";
    public const string SpiffePattern = "^spiffe://[A-Za-z0-9._-]+(/[^?#]*)?$";
    public const string HostPortPattern = "^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?):[1-9][0-9]{0,4}$";

    public static JsonObject Object(string description, JsonObject properties, params string[] required)
    {
        var o = new JsonObject { ["type"] = "object", ["description"] = description, ["properties"] = properties };
        if (required.Length > 0) o["required"] = new JsonArray(required.Select(r => (JsonNode?)r).ToArray());
        return o;
    }

    public static JsonObject Str(string description, string? pattern = null, int? maxLength = null, int? minLength = null)
    {
        var o = new JsonObject { ["type"] = "string", ["description"] = description };
        if (pattern is not null) o["pattern"] = pattern;
        if (minLength is not null) o["minLength"] = minLength;
        if (maxLength is not null) o["maxLength"] = maxLength;
        return o;
    }

    public static JsonObject DnsLabel(string description) => Str(description, DnsLabelPattern, 63, 1);

    public static JsonObject Duration(string description) => Str(description + " A duration: number+unit pairs (h, m, s, ms, us, ns), e.g. \"500ms\" or \"1m30s\".", DurationPattern);

    public static JsonObject Enum(string description, params string[] values) =>
        new() { ["type"] = "string", ["description"] = description, ["enum"] = new JsonArray(values.Select(v => (JsonNode?)v).ToArray()) };

    public static JsonObject Int(string description, long? min = null, long? max = null)
    {
        var o = new JsonObject { ["type"] = "integer", ["description"] = description };
        if (min is not null) o["minimum"] = min;
        if (max is not null) o["maximum"] = max;
        return o;
    }

    public static JsonObject Number(string description, double? min = null, double? max = null)
    {
        var o = new JsonObject { ["type"] = "number", ["description"] = description };
        if (min is not null) o["minimum"] = min;
        if (max is not null) o["maximum"] = max;
        return o;
    }

    public static JsonObject Bool(string description) => new() { ["type"] = "boolean", ["description"] = description };

    public static JsonObject Array(string description, JsonObject items, int? minItems = null)
    {
        var o = new JsonObject { ["type"] = "array", ["description"] = description, ["items"] = items };
        if (minItems is not null) o["minItems"] = minItems;
        return o;
    }

    public static JsonObject StringMap(string description) =>
        new() { ["type"] = "object", ["description"] = description, ["additionalProperties"] = new JsonObject { ["type"] = "string" } };

    /// <summary>Conditions as in Kubernetes; status is written by controllers, so it is described loosely.</summary>
    public static JsonObject Conditions() => Array("Conditions, as in Kubernetes.", Object("A condition.", new JsonObject
    {
        ["type"] = Str("Condition type."),
        ["status"] = Enum("True, False or Unknown.", "True", "False", "Unknown"),
        ["reason"] = Str("Machine-readable reason."),
        ["message"] = Str("Human-readable message."),
        ["lastTransitionTime"] = Str("RFC 3339 time of the last change of status."),
    }, "type", "status"));

    /// <summary>Adds CEL rules (x-kubernetes-validations), evaluated by the real API server.</summary>
    public static JsonObject WithRules(this JsonObject schema, params (string Rule, string Message)[] rules)
    {
        schema["x-kubernetes-validations"] = new JsonArray(rules.Select(r => (JsonNode?)new JsonObject { ["rule"] = r.Rule, ["message"] = r.Message }).ToArray());
        return schema;
    }
}
