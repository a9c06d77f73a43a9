using System.Text.Json.Nodes;

namespace FedMesh.Kubernetes.Tests.ApiServer;

/// <summary>An API failure, sent as a Kubernetes Status object with <see cref="Code"/>.</summary>
internal sealed class ApiError(int code, string reason, string message, JsonArray? causes = null) : Exception(message)
{
    public int Code { get; } = code;
    public string Reason { get; } = reason;

    public JsonObject ToStatus() => Status(Code, Reason, Message, causes);

    public static JsonObject Status(int code, string reason, string message, JsonArray? causes = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = code,
        };
        if (causes is not null) status["details"] = new JsonObject { ["causes"] = causes };
        return status;
    }

    public static ApiError NotFound(ApiPath path, string name) => new(404, "NotFound", $"{path.GroupResource} \"{name}\" not found");
    public static ApiError Conflict(ApiPath path, string name, string why) => new(409, "Conflict", $"Operation cannot be fulfilled on {path.GroupResource} \"{name}\": {why}");
}
