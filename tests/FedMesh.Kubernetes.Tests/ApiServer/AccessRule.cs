namespace FedMesh.Kubernetes.Tests.ApiServer;

/// <summary>An RBAC-style rule: verbs on resources of API groups, optionally only in some namespaces. "*" matches all.</summary>
internal sealed record AccessRule(string[] Verbs, string[] ApiGroups, string[] Resources, string[]? Namespaces = null)
{
    public static readonly AccessRule Everything = new(["*"], ["*"], ["*"]);

    public bool Allows(string verb, string group, string resource, string? @namespace) =>
        Has(Verbs, verb) && Has(ApiGroups, group) && Has(Resources, resource)
        && (Namespaces is null || (@namespace is not null && Has(Namespaces, @namespace)));

    private static bool Has(string[] values, string value) => Array.IndexOf(values, "*") >= 0 || Array.IndexOf(values, value) >= 0;
}
