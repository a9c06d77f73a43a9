using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace FedMesh.Kubernetes.Tests.ApiServer;

/// <summary>
/// Bearer tokens and what they may do. A token is either given rules directly, or belongs to a
/// ServiceAccount (the server mints one for each service-account-token Secret, and projected ones on request)
/// whose rights come from the Roles, ClusterRoles and bindings stored in the server, evaluated as Kubernetes
/// RBAC does. Service-account tokens carry audiences and may expire: as on a real API server, only tokens for
/// the API server's audience are accepted on API requests, and TokenReview checks the audiences asked for.
/// </summary>
internal sealed partial class Authorizer(ObjectStore store, TimeProvider time)
{
    /// <summary>The API server's own audience, implied by legacy Secret-based service-account tokens.</summary>
    public const string ApiAudience = "https://kubernetes.default.svc.cluster.local";

    private const string Rbac = "rbac.authorization.k8s.io";
    private readonly ConcurrentDictionary<string, Principal> _tokens = new(StringComparer.Ordinal);

    public void AddToken(string token, string user, IReadOnlyList<AccessRule> rules) => _tokens[token] = new Principal(user, rules, null, null, null, null);

    public void AddServiceAccountToken(string token, string @namespace, string serviceAccount) =>
        _tokens[token] = new Principal($"system:serviceaccount:{@namespace}:{serviceAccount}", [], @namespace, serviceAccount, [ApiAudience], null);

    /// <summary>A projected service-account token (as the kubelet requests through TokenRequest) for <paramref name="audiences"/>.</summary>
    public string IssueProjectedToken(string @namespace, string serviceAccount, string[] audiences, TimeSpan lifetime)
    {
        var token = $"projected-{@namespace}-{serviceAccount}-{Guid.NewGuid():N}";
        _tokens[token] = new Principal($"system:serviceaccount:{@namespace}:{serviceAccount}", [], @namespace, serviceAccount, audiences, time.GetUtcNow() + lifetime);
        return token;
    }

    public void RevokeTokensOf(string @namespace, string serviceAccount)
    {
        foreach (var (token, p) in _tokens)
            if (p.ServiceAccountNamespace == @namespace && p.ServiceAccount == serviceAccount) _tokens.TryRemove(token, out _);
    }

    /// <summary>Throws 401 for an unknown token and 403 (with Kubernetes' wording) for a verb the token may not use.</summary>
    public void Authorize(string? authorization, string verb, ApiPath path)
    {
        var token = authorization is not null && authorization.StartsWith("Bearer ", StringComparison.Ordinal) ? authorization[7..] : null;
        // A token for another audience (a projected token for fedmesh) is no API credential, as on a real server.
        if (token is null || !_tokens.TryGetValue(token, out var principal) || Expired(principal)
            || (principal.Audiences is not null && !principal.Audiences.Contains(ApiAudience)))
            throw new ApiError(401, "Unauthorized", "Unauthorized");
        if (principal.Rules.Any(r => r.Allows(verb, path.Group, path.Resource, path.Namespace)) || ServiceAccountAllows(principal, verb, path))
            return;
        var scope = path.Namespace is null ? "at the cluster scope" : $"in the namespace \"{path.Namespace}\"";
        throw new ApiError(403, "Forbidden", $"{path.GroupResource}{(path.Name is null ? "" : $" \"{path.Name}\"")} is forbidden: User \"{principal.User}\" cannot {verb} resource \"{path.Resource}\" in API group \"{path.Group}\" {scope}");
    }

    private bool ServiceAccountAllows(Principal principal, string verb, ApiPath path)
    {
        if (principal.ServiceAccount is null) return false;
        foreach (var binding in store.All(Rbac, "clusterrolebindings"))
            if (Binds(binding, principal) && RoleAllows(ClusterRole(binding), verb, path)) return true;
        if (path.Namespace is null) return false;
        foreach (var binding in store.All(Rbac, "rolebindings"))
        {
            if (binding["metadata"]?["namespace"]?.GetValue<string>() != path.Namespace || !Binds(binding, principal)) continue;
            var roleRef = binding["roleRef"];
            var roleName = roleRef?["name"]?.GetValue<string>();
            var role = roleRef?["kind"]?.GetValue<string>() == "ClusterRole"
                ? store.All(Rbac, "clusterroles").FirstOrDefault(r => r["metadata"]?["name"]?.GetValue<string>() == roleName)
                : store.All(Rbac, "roles").FirstOrDefault(r => r["metadata"]?["name"]?.GetValue<string>() == roleName && r["metadata"]?["namespace"]?.GetValue<string>() == path.Namespace);
            if (RoleAllows(role, verb, path)) return true;
        }
        return false;
    }

    private JsonObject? ClusterRole(JsonObject binding)
    {
        var name = binding["roleRef"]?["name"]?.GetValue<string>();
        return store.All(Rbac, "clusterroles").FirstOrDefault(r => r["metadata"]?["name"]?.GetValue<string>() == name);
    }

    private static bool Binds(JsonObject binding, Principal principal) =>
        binding["subjects"] is JsonArray subjects && subjects.OfType<JsonObject>().Any(s =>
            s["kind"]?.GetValue<string>() == "ServiceAccount"
            && s["name"]?.GetValue<string>() == principal.ServiceAccount
            && s["namespace"]?.GetValue<string>() == principal.ServiceAccountNamespace);

    private static bool RoleAllows(JsonObject? role, string verb, ApiPath path)
    {
        if (role?["rules"] is not JsonArray rules) return false;
        foreach (var rule in rules.OfType<JsonObject>())
        {
            var r = new AccessRule(Strings(rule["verbs"]), Strings(rule["apiGroups"]), Strings(rule["resources"]));
            if (r.Allows(verb, path.Group, path.Resource, path.Namespace)) return true;
        }
        return false;
    }

    private static string[] Strings(JsonNode? node) => node is JsonArray a ? a.Select(n => n?.GetValue<string>() ?? "").ToArray() : [];

    private bool Expired(Principal principal) => principal.ExpiresAt is { } at && time.GetUtcNow() >= at;

    /// <param name="Audiences">Null for static user tokens, which are audience-agnostic.</param>
    private sealed record Principal(string User, IReadOnlyList<AccessRule> Rules, string? ServiceAccountNamespace, string? ServiceAccount,
        string[]? Audiences, DateTimeOffset? ExpiresAt);
}
