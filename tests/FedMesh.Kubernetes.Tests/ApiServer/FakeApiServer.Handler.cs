using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace FedMesh.Kubernetes.Tests.ApiServer;

internal sealed partial class FakeApiServer
{
    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        Interlocked.Increment(ref _requests);
        try
        {
            var path = ApiPath.Parse(request.Path) ?? throw new ApiError(404, "NotFound", "the server could not find the requested resource");
            var verb = VerbOf(request, path);
            Authorizer.Authorize(request.Headers.Authorization.ToString() is { Length: > 0 } a ? a : null, verb, path);
            if (path is { Group: "authentication.k8s.io", Resource: "tokenreviews", Namespace: null, Name: null } && verb == "create")
            {
                await ReviewTokenAsync(context).ConfigureAwait(false);
                return;
            }
            EnsureServed(path);
            var selector = LabelSelector.Parse(request.Query["labelSelector"]);
            switch (verb)
            {
                case "watch":
                    await WatchAsync(context, path, selector).ConfigureAwait(false);
                    return;
                case "list":
                    var (items, version) = Objects.List(path, selector);
                    await WriteAsync(context, 200, new JsonObject
                    {
                        ["kind"] = "List", ["apiVersion"] = path.Group.Length == 0 ? path.Version : $"{path.Group}/{path.Version}",
                        ["metadata"] = new JsonObject { ["resourceVersion"] = version.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                        ["items"] = new JsonArray(items.ToArray<JsonNode?>()),
                    }).ConfigureAwait(false);
                    return;
                case "get":
                    await WriteAsync(context, 200, Objects.Get(path, path.Name!)).ConfigureAwait(false);
                    return;
                case "create":
                {
                    var body = await ReadAsync(request).ConfigureAwait(false);
                    Validate(path, body);
                    var created = OnCreated(path, Objects.Create(path, body));
                    await WriteAsync(context, 201, created).ConfigureAwait(false);
                    return;
                }
                case "update":
                {
                    var body = await ReadAsync(request).ConfigureAwait(false);
                    Validate(path, body);
                    await WriteAsync(context, 200, Objects.Replace(path, path.Name!, body)).ConfigureAwait(false);
                    return;
                }
                case "patch":
                {
                    if (request.ContentType?.StartsWith("application/json-patch+json", StringComparison.Ordinal) == true)
                        throw new ApiError(415, "UnsupportedMediaType", "json-patch is not served by this test server; use a merge patch");
                    var patch = await ReadAsync(request).ConfigureAwait(false);
                    var patched = Objects.Replace(path, path.Name!, patch, stored =>
                    {
                        var merged = (JsonObject)MergePatch.Apply(stored, patch)!;
                        Validate(path, merged);
                        return merged;
                    });
                    await WriteAsync(context, 200, patched).ConfigureAwait(false);
                    return;
                }
                case "delete":
                {
                    var options = request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0 ? await ReadAsync(request).ConfigureAwait(false) : null;
                    var precondition = options?["preconditions"]?["resourceVersion"]?.GetValue<string>();
                    var deleted = Objects.Delete(path, path.Name!, precondition);
                    OnDeleted(path, deleted);
                    await WriteAsync(context, 200, deleted).ConfigureAwait(false);
                    return;
                }
                default:
                    throw new ApiError(405, "MethodNotAllowed", $"{request.Method} is not supported on {request.Path}");
            }
        }
        catch (ApiError e)
        {
            await WriteAsync(context, e.Code, e.ToStatus()).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException && !context.Response.HasStarted)
        {
            await WriteAsync(context, 500, ApiError.Status(500, "InternalError", $"test server failure: {e}")).ConfigureAwait(false);
        }
    }

    /// <summary>A TokenReview is not stored: the answer is the request with its status filled in (201, as the real server).</summary>
    private async Task ReviewTokenAsync(HttpContext context)
    {
        var review = await ReadAsync(context.Request).ConfigureAwait(false);
        var spec = review["spec"] as JsonObject ?? throw new ApiError(422, "Invalid", "TokenReview.authentication.k8s.io is invalid: spec.token: Required value");
        var audiences = spec["audiences"] is JsonArray a ? a.Select(n => n?.GetValue<string>() ?? "").ToArray() : null;
        review["status"] = Authorizer.Review(spec["token"]?.GetValue<string>(), audiences);
        review["metadata"] ??= new JsonObject();
        await WriteAsync(context, 201, review).ConfigureAwait(false);
    }

    private static string VerbOf(HttpRequest request, ApiPath path) => request.Method switch
    {
        "GET" when path.Name is not null => "get",
        "GET" when request.Query["watch"] is var w && (w == "true" || w == "1") => "watch",
        "GET" => "list",
        "POST" when path.Name is null => "create",
        "PUT" when path.Name is not null => "update",
        "PATCH" when path.Name is not null => "patch",
        "DELETE" when path.Name is not null => "delete",
        _ => "unsupported",
    };

    private static async Task<JsonObject> ReadAsync(HttpRequest request)
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<JsonObject>(request.Body).ConfigureAwait(false)
                   ?? throw new ApiError(400, "BadRequest", "the request body is empty");
        }
        catch (JsonException e)
        {
            throw new ApiError(400, "BadRequest", $"the request body is not a JSON object: {e.Message}");
        }
    }

    private static async Task WriteAsync(HttpContext context, int code, JsonObject body)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), Encoding.UTF8).ConfigureAwait(false);
    }

    /// <summary>Service-account token Secrets get a token (as the token controller would, but at once).</summary>
    private JsonObject OnCreated(ApiPath path, JsonObject created)
    {
        if (path.Group != "" || path.Resource != "secrets" || created["type"]?.GetValue<string>() != "kubernetes.io/service-account-token")
            return created;
        var account = created["metadata"]?["annotations"]?["kubernetes.io/service-account.name"]?.GetValue<string>();
        if (account is null) return created;
        var token = $"sa-{path.Namespace}-{account}-{Guid.NewGuid():N}";
        Authorizer.AddServiceAccountToken(token, path.Namespace!, account);
        var data = new JsonObject
        {
            ["token"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(token)),
            ["ca.crt"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("-----BEGIN CERTIFICATE-----\ntest server serves plain HTTP\n-----END CERTIFICATE-----\n")),
            ["namespace"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(path.Namespace!)),
        };
        return Objects.Replace(path, created["metadata"]!["name"]!.GetValue<string>(), new JsonObject(), stored => { stored["data"] = data; return stored; });
    }

    /// <summary>
    /// What the namespace controller and the garbage collector do after a delete, but at once: a Namespace takes
    /// everything in it along, a CRD its custom resources.
    /// </summary>
    private void OnDeleted(ApiPath path, JsonObject deleted)
    {
        if (path is { Group: "", Resource: "namespaces" })
            Objects.DeleteWhere((_, _, ns) => ns == path.Name);
        if (path is { Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions" }
            && deleted["spec"]?["group"]?.GetValue<string>() is { } group && deleted["spec"]?["names"]?["plural"]?.GetValue<string>() is { } plural)
            Objects.DeleteWhere((g, r, _) => g == group && r == plural);
        if (path.Group == "" && path.Resource == "secrets" && deleted["metadata"]?["annotations"]?["kubernetes.io/service-account.name"]?.GetValue<string>() is { } account)
            Authorizer.RevokeTokensOf(path.Namespace!, account);
    }
}
