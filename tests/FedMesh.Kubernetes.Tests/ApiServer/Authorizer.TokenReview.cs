using System.Text.Json.Nodes;

namespace FedMesh.Kubernetes.Tests.ApiServer;

internal sealed partial class Authorizer
{
    /// <summary>
    /// The status of a TokenReview (authentication.k8s.io/v1) of <paramref name="token"/> for <paramref name="audiences"/>
    /// (the API server's audience when none are asked for): authenticated with the user and the audiences both share,
    /// or not, with the reason, as a real API server answers.
    /// </summary>
    public JsonObject Review(string? token, string[]? audiences)
    {
        audiences = audiences is { Length: > 0 } ? audiences : [ApiAudience];
        if (string.IsNullOrEmpty(token) || !_tokens.TryGetValue(token, out var principal))
            return Rejected("[invalid bearer token, token lookup failed]");
        if (Expired(principal))
            return Rejected("[invalid bearer token, service account token has expired]");
        var shared = principal.Audiences is null ? audiences : principal.Audiences.Intersect(audiences, StringComparer.Ordinal).ToArray();
        if (shared.Length == 0)
            return Rejected($"[invalid bearer token, token audiences [{string.Join(" ", principal.Audiences!)}] is invalid for the target audiences [{string.Join(" ", audiences)}]]");
        var groups = principal.ServiceAccount is null
            ? new JsonArray("system:authenticated")
            : new JsonArray("system:serviceaccounts", $"system:serviceaccounts:{principal.ServiceAccountNamespace}", "system:authenticated");
        return new JsonObject
        {
            ["authenticated"] = true,
            ["user"] = new JsonObject { ["username"] = principal.User, ["uid"] = $"uid-{principal.User}", ["groups"] = groups },
            ["audiences"] = new JsonArray(shared.Select(a => (JsonNode?)a).ToArray()),
        };
    }

    private static JsonObject Rejected(string error) => new() { ["authenticated"] = false, ["user"] = new JsonObject(), ["error"] = error };
}
