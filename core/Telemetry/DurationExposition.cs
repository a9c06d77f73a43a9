using System.Globalization;
using System.Text;

namespace FedMesh.Core.Telemetry;

/// <summary>
/// <c>fedmesh_request_duration_seconds</c> in the Prometheus text format (0.0.4) or OpenMetrics, rendered from the
/// cells' counters when <c>/metrics</c> is scraped: the same family, labels and buckets the OpenTelemetry exporter gives
/// the histogram when it records it itself (OTLP on), so a dashboard cannot tell them apart.
/// </summary>
public static class DurationExposition
{
    public const string Family = "fedmesh_request_duration_seconds";
    private const string Help = "Duration of requests forwarded by the proxy or gateway";

    /// <summary>Appends the family for every cell's status classes that counted a request; nothing when none did.</summary>
    public static void Write(StringBuilder text, IEnumerable<RequestStatsCell> cells, bool openMetrics)
    {
        var header = false;
        foreach (var cell in cells.OrderBy(c => c.Key.ToString(), StringComparer.Ordinal))
        {
            for (var c = 0; c < StatusClass.Count; c++)
            {
                if (cell.StatusClassCount(c) == 0)
                    continue;
                if (!header)
                {
                    text.Append("# TYPE ").Append(Family).Append(" histogram\n");
                    if (openMetrics) text.Append("# UNIT ").Append(Family).Append(" seconds\n");
                    text.Append("# HELP ").Append(Family).Append(' ').Append(Help).Append('\n');
                    header = true;
                }
                WriteSeries(text, cell, c, openMetrics);
            }
        }
    }

    private static void WriteSeries(StringBuilder text, RequestStatsCell cell, int statusClass, bool openMetrics)
    {
        var labels = Labels(cell.Tags(statusClass));
        long cumulative = 0;
        for (var i = 0; i < LatencyBuckets.Count; i++)
        {
            cumulative += cell.BucketOf(statusClass, i);
            var le = i < MeshMetrics.BoundsSeconds.Length ? Number(MeshMetrics.BoundsSeconds[i], openMetrics) : "+Inf";
            text.Append(Family).Append("_bucket{").Append(labels).Append(",le=\"").Append(le).Append("\"} ")
                .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        // The count is the buckets' total as read, so that it always equals the +Inf bucket.
        text.Append(Family).Append("_sum{").Append(labels).Append("} ")
            .Append(Number(cell.SumMicrosOf(statusClass) / 1e6, openMetrics)).Append('\n');
        text.Append(Family).Append("_count{").Append(labels).Append("} ")
            .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        if (openMetrics)
            text.Append(Family).Append("_created{").Append(labels).Append("} ")
                .Append(Number(cell.Created.ToUnixTimeMilliseconds() / 1000.0, openMetrics)).Append('\n');
    }

    /// <summary>
    /// The series' labels, as the exporter gives them: the meter's scope, then the cell's tags for the status class (the
    /// ones it records with, <see cref="RequestStatsCell.Tags"/>) by name.
    /// </summary>
    private static string Labels(KeyValuePair<string, object?>[] tags)
    {
        var labels = new StringBuilder();
        labels.Append("otel_scope_name=\"").Append(MeshMetrics.MeterName).Append("\",otel_scope_version=\"").Append(MeshMetrics.MeterVersion).Append('"');
        foreach (var (name, value) in tags.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            labels.Append(',').Append(name).Append("=\"");
            foreach (var ch in value as string ?? "")
            {
                if (ch is '\\' or '"') labels.Append('\\').Append(ch);
                else if (ch == '\n') labels.Append("\\n");
                else labels.Append(ch);
            }
            labels.Append('"');
        }
        return labels.ToString();
    }

    // Prometheus' text takes Go's float forms ("2.5E-05"); OpenMetrics writes the exponent in lower case.
    private static string Number(double value, bool openMetrics)
    {
        var s = value.ToString("R", CultureInfo.InvariantCulture);
        return openMetrics ? s.ToLowerInvariant() : s;
    }
}
