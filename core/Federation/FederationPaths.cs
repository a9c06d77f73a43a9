namespace FedMesh.Core.Federation;

/// <summary>Where things live under a federation home.</summary>
public sealed class FederationPaths(string home)
{
    public string Home { get; } = Path.GetFullPath(home);

    /// <summary>The home from <c>--home</c>, else <c>$FEDMESH_HOME</c>, else <c>~/.fedmesh</c>.</summary>
    public static FederationPaths Resolve(string? home)
    {
        if (!string.IsNullOrEmpty(home)) return new FederationPaths(home);
        var env = Environment.GetEnvironmentVariable("FEDMESH_HOME");
        if (!string.IsNullOrEmpty(env)) return new FederationPaths(env);
        return new FederationPaths(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".fedmesh"));
    }

    public string ConfigFile => Path.Combine(Home, "config.yaml");

    /// <summary>The federation's trust anchor (root CA): anchor.crt (PEM) and anchor.key (PEM, 0600).</summary>
    public string AnchorDirectory => Path.Combine(Home, "anchor");

    public string ClusterDirectory(string cluster) => Path.Combine(Home, "clusters", cluster);

    /// <summary>The cluster's issuer (intermediate CA), held by its controller.</summary>
    public string IssuerDirectory(string cluster) => Path.Combine(ClusterDirectory(cluster), "issuer");

    /// <summary>The token proxies and the gateway present to get their certificates.</summary>
    public string BootstrapTokenFile(string cluster) => Path.Combine(ClusterDirectory(cluster), "bootstrap-token");

    public string StoreDirectory(ClusterConfig cluster) =>
        string.IsNullOrEmpty(cluster.Store) ? Path.Combine(ClusterDirectory(cluster.Name), "store")
        : Path.IsPathRooted(cluster.Store) ? cluster.Store : Path.Combine(Home, cluster.Store);

    /// <summary>Runtime state of the local federation: supervisor pid, parts, logs.</summary>
    public string RunDirectory => Path.Combine(Home, "run");
    public string StateFile => Path.Combine(RunDirectory, "state.json");
    public string SupervisorPidFile => Path.Combine(RunDirectory, "supervisor.pid");
    public string LogDirectory => Path.Combine(RunDirectory, "logs");
}
