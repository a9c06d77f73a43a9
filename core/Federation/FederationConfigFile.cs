using FedMesh.Core.Validation;
using FedMesh.Core.Yaml;

namespace FedMesh.Core.Federation;

/// <summary>Reads and writes <c>config.yaml</c>: strict on read, atomic on write.</summary>
public static class FederationConfigFile
{
    /// <summary>
    /// Reads the federation config. Unknown fields, duplicate keys, wrong types and broken rules
    /// (cluster names, types, duplicates) throw <see cref="ResourceDecodeException"/> with file:line:column.
    /// </summary>
    /// <exception cref="FileNotFoundException">No config at <paramref name="path"/>; create one with <c>fedmesh up</c>.</exception>
    public static FederationConfig Load(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"No federation config at {path}; run \"fedmesh up\" to create one or pass --home to point at an existing federation.", path);
        return ResourceCodec.DecodeObject<FederationConfig>(File.ReadAllText(path), path, Validate);
    }

    /// <summary>Writes the config atomically: a temp file in the same folder, flushed to disk, then renamed over the old one.</summary>
    public static void Save(FederationConfig config, string path)
    {
        ArgumentNullException.ThrowIfNull(config);
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(ResourceCodec.EncodeObject(config));
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Rules of the config: valid, unique cluster and workload names, a known cluster type, runnable workloads.</summary>
    public static IReadOnlyList<ValidationError> Validate(FederationConfig config)
    {
        var errors = new List<ValidationError>();
        if (config.Kind != "Federation")
            errors.Add(new("kind", $"must be \"Federation\" (got \"{config.Kind}\")"));
        if (config.Clusters.Count == 0)
            errors.Add(new("clusters", "at least one cluster is required"));
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < config.Clusters.Count; i++)
        {
            var path = $"clusters[{i}]";
            var cluster = config.Clusters[i];
            if (string.IsNullOrEmpty(cluster.Name))
                errors.Add(new(path + ".name", "is required"));
            else if (!FieldChecks.IsDnsLabel(cluster.Name, out var why))
                errors.Add(new(path + ".name", $"\"{cluster.Name}\" is not a valid cluster name: {why}; use lower-case letters, digits and '-'"));
            else if (seen.TryGetValue(cluster.Name, out var first))
                errors.Add(new(path + ".name", $"\"{cluster.Name}\" is already clusters[{first}]; cluster names must be unique"));
            else
                seen[cluster.Name] = i;
            if (cluster.Type is not ("local" or "kubernetes"))
                errors.Add(new(path + ".type", $"must be \"local\" or \"kubernetes\" (got \"{cluster.Type}\")"));
            else if (cluster.Type == "kubernetes" && string.IsNullOrEmpty(cluster.Context))
                errors.Add(new(path + ".context", "is required for a kubernetes cluster (the kubeconfig context to use)"));
            ValidateWorkloads(cluster, path, errors);
        }
        return errors;
    }

    /// <summary>The local federation runs the built-in apps only, each instance with its own proxy.</summary>
    private static void ValidateWorkloads(ClusterConfig cluster, string clusterPath, List<ValidationError> errors)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var j = 0; j < cluster.Workloads.Count; j++)
        {
            var path = $"{clusterPath}.workloads[{j}]";
            var w = cluster.Workloads[j];
            if (!FieldChecks.IsDnsLabel(w.Name, out var why))
                errors.Add(new(path + ".name", $"\"{w.Name}\" is not a valid workload name: {why}"));
            else if (!names.Add(w.Name))
                errors.Add(new(path + ".name", $"duplicate workload \"{w.Name}\" in cluster \"{cluster.Name}\""));
            if (!string.IsNullOrEmpty(w.Service) && !FieldChecks.IsDnsLabel(w.Service, out why))
                errors.Add(new(path + ".service", $"\"{w.Service}\" is not a valid service name: {why}"));
            if (!string.IsNullOrEmpty(w.Namespace) && !FieldChecks.IsDnsLabel(w.Namespace, out why))
                errors.Add(new(path + ".namespace", $"\"{w.Namespace}\" is not a valid namespace: {why}"));
            if (w.App != "echo")
                errors.Add(new(path + ".app", $"only the built-in \"echo\" app can run in a local federation (got \"{w.App}\")"));
            if (w.Replicas is < 1 or > 16)
                errors.Add(new(path + ".replicas", $"must be between 1 and 16 (got {w.Replicas})"));
        }
    }
}
