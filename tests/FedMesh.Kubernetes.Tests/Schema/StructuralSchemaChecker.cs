using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FedMesh.Kubernetes.Tests.Schema;

/// <summary>
/// Checks a JSON value against an OpenAPI v3 structural schema as the API server does for a CRD:
/// type, required, properties, items, additionalProperties, enum, pattern, minimum/maximum,
/// minLength/maxLength, minItems, and map-list key uniqueness (x-kubernetes-list-type: map).
/// Unknown fields are pruned by the real server, not rejected, so they are ignored here.
/// Not evaluated: CEL rules (x-kubernetes-validations) and formats.
/// </summary>
internal static class StructuralSchemaChecker
{
    public static List<(string Field, string Message)> Check(JsonObject schema, JsonNode? value)
    {
        var errors = new List<(string, string)>();
        Walk(schema, value, "", errors);
        return errors;
    }

    private static void Walk(JsonObject schema, JsonNode? value, string path, List<(string, string)> errors)
    {
        if (value is null) return; // absent or null: "required" on the parent decides
        var type = schema["type"]?.GetValue<string>();
        switch (type)
        {
            case "object":
                if (value is not JsonObject obj) { errors.Add((path, "must be an object")); return; }
                foreach (var r in (schema["required"] as JsonArray ?? []).Select(n => n!.GetValue<string>()))
                    if (obj[r] is null) errors.Add((Join(path, r), "Required value"));
                var properties = schema["properties"] as JsonObject;
                var additional = schema["additionalProperties"] as JsonObject;
                foreach (var (key, child) in obj)
                {
                    if (properties?[key] is JsonObject p) Walk(p, child, Join(path, key), errors);
                    else if (additional is not null) Walk(additional, child, Join(path, key), errors);
                }
                return;
            case "array":
                if (value is not JsonArray array) { errors.Add((path, "must be an array")); return; }
                if (schema["minItems"] is { } minItems && array.Count < minItems.GetValue<int>())
                    errors.Add((path, $"should have at least {minItems} items"));
                if (schema["items"] is JsonObject items)
                    for (var i = 0; i < array.Count; i++) Walk(items, array[i], $"{path}[{i}]", errors);
                if (schema["x-kubernetes-list-type"]?.GetValue<string>() == "map" && schema["x-kubernetes-list-map-keys"] is JsonArray keys)
                {
                    var seen = new HashSet<string>();
                    for (var i = 0; i < array.Count; i++)
                    {
                        var key = string.Join("/", keys.Select(k => array[i]?[k!.GetValue<string>()]?.ToJsonString() ?? ""));
                        if (!seen.Add(key)) errors.Add(($"{path}[{i}]", $"Duplicate value: {key}"));
                    }
                }
                return;
            case "string":
                if (value is not JsonValue sv || sv.GetValueKind() != JsonValueKind.String) { errors.Add((path, "must be a string")); return; }
                var s = sv.GetValue<string>();
                if (schema["enum"] is JsonArray values && !values.Any(v => v!.GetValue<string>() == s))
                    errors.Add((path, $"Unsupported value: \"{s}\""));
                if (schema["pattern"]?.GetValue<string>() is { } pattern && !Regex.IsMatch(s, pattern))
                    errors.Add((path, $"should match '{pattern}'"));
                if (schema["minLength"] is { } minLength && s.Length < minLength.GetValue<int>()) errors.Add((path, $"should be at least {minLength} chars long"));
                if (schema["maxLength"] is { } maxLength && s.Length > maxLength.GetValue<int>()) errors.Add((path, $"may not be longer than {maxLength}"));
                return;
            case "integer" or "number":
                if (value is not JsonValue nv || nv.GetValueKind() != JsonValueKind.Number) { errors.Add((path, $"must be of type {type}")); return; }
                var n = nv.GetValue<double>();
                if (type == "integer" && n != Math.Floor(n)) errors.Add((path, "must be of type integer"));
                if (schema["minimum"] is { } min && n < min.GetValue<double>()) errors.Add((path, $"should be greater than or equal to {min}"));
                if (schema["maximum"] is { } max && n > max.GetValue<double>()) errors.Add((path, $"should be less than or equal to {max}"));
                return;
            case "boolean":
                if (value is not JsonValue bv || bv.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)) errors.Add((path, "must be a boolean"));
                return;
        }
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
}
