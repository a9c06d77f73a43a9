namespace FedMesh.Core.Telemetry;

/// <summary>
/// Whether a process publishes metrics and traces, and where. Read from the environment so every
/// component (and the local federation's supervisor, which passes its environment on) agrees:
/// <c>FEDMESH_TELEMETRY=off</c> or the standard <c>OTEL_SDK_DISABLED=true</c> turns both off;
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (with the other standard OTEL_* variables) adds OTLP export.
/// </summary>
public sealed record TelemetrySettings(bool Enabled, bool ExportOtlp)
{
    public const string SwitchVariable = "FEDMESH_TELEMETRY";

    public static TelemetrySettings FromEnvironment()
    {
        var fedmesh = Environment.GetEnvironmentVariable(SwitchVariable)?.Trim();
        var sdkDisabled = Environment.GetEnvironmentVariable("OTEL_SDK_DISABLED")?.Trim();
        var off = fedmesh is not null && (fedmesh.Equals("off", StringComparison.OrdinalIgnoreCase) || fedmesh.Equals("false", StringComparison.OrdinalIgnoreCase) || fedmesh == "0")
            || string.Equals(sdkDisabled, "true", StringComparison.OrdinalIgnoreCase);
        var otlp = !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));
        return new TelemetrySettings(!off, !off && otlp);
    }
}
