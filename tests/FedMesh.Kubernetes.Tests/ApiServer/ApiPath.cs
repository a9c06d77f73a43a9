namespace FedMesh.Kubernetes.Tests.ApiServer;

/// <summary>
/// A parsed API path: <c>/api/v1[/namespaces/NS]/RESOURCE[/NAME]</c> or
/// <c>/apis/GROUP/VERSION[/namespaces/NS]/RESOURCE[/NAME]</c>.
/// </summary>
internal sealed record ApiPath(string Group, string Version, string Resource, string? Namespace, string? Name)
{
    public static ApiPath? Parse(string path)
    {
        var parts = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        int i;
        string group, version;
        if (parts.Length >= 2 && parts[0] == "api") { group = ""; version = parts[1]; i = 2; }
        else if (parts.Length >= 3 && parts[0] == "apis") { group = parts[1]; version = parts[2]; i = 3; }
        else return null;
        var rest = parts[i..];
        if (rest.Length >= 3 && rest[0] == "namespaces")
            return rest.Length switch
            {
                3 => new ApiPath(group, version, rest[2], rest[1], null),
                4 => new ApiPath(group, version, rest[2], rest[1], rest[3]),
                _ => null, // subresources (status, scale, ...) are not served
            };
        return rest.Length switch
        {
            1 => new ApiPath(group, version, rest[0], null, null),
            2 => new ApiPath(group, version, rest[0], null, rest[1]),
            _ => null,
        };
    }

    public string GroupResource => Group.Length == 0 ? Resource : $"{Resource}.{Group}";
}
