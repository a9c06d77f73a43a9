namespace FedMesh.Kubernetes.Tests.Cli;

/// <summary>A federation home (and kubeconfig) in a fresh temporary directory, removed afterwards.</summary>
internal sealed class TempHome : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("fedmesh-k8s-").FullName;

    public string Kubeconfig => System.IO.Path.Combine(Path, "kubeconfig");

    /// <summary>Writes a kubeconfig with one context per (name, server) using <paramref name="token"/>.</summary>
    public void WriteKubeconfig(string token, params (string Name, string Server)[] clusters)
    {
        var text = new System.Text.StringBuilder("apiVersion: v1\nkind: Config\nclusters:\n");
        foreach (var (name, server) in clusters) text.Append($"- name: {name}\n  cluster:\n    server: {server}\n");
        text.Append("contexts:\n");
        foreach (var (name, _) in clusters) text.Append($"- name: {name}\n  context:\n    cluster: {name}\n    user: admin\n");
        text.Append($"users:\n- name: admin\n  user:\n    token: {token}\ncurrent-context: {clusters[0].Name}\n");
        File.WriteAllText(Kubeconfig, text.ToString());
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
