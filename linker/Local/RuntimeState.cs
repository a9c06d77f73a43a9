using System.Text.Json;
using System.Text.Json.Serialization;

namespace FedMesh.Linker.Local;

/// <summary>What the supervisor is running, written to run/state.json at every change.</summary>
internal sealed class RuntimeState
{
    public int SupervisorPid { get; set; }
    public string Home { get; set; } = "";
    public string StartedAt { get; set; } = "";
    public List<PartState> Parts { get; set; } = new();

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static RuntimeState? TryLoad(string file)
    {
        try { return JsonSerializer.Deserialize<RuntimeState>(File.ReadAllText(file), Json); }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Atomic: temp file then rename, so a reader never sees half a state.</summary>
    public void Save(string file)
    {
        var temp = $"{file}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this, Json));
        File.Move(temp, file, overwrite: true);
    }
}

internal sealed class PartState
{
    public string Name { get; set; } = "";
    public string Cluster { get; set; } = "";
    public string Kind { get; set; } = "";
    public int Pid { get; set; }
    public int Restarts { get; set; }
    public string? StartedAt { get; set; }
    public Dictionary<string, string> Addresses { get; set; } = new();
    public string ReadyUrl { get; set; } = "";
    public string Log { get; set; } = "";
}
