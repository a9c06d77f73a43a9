using System.CommandLine;
using FedMesh.Core.Federation;

namespace FedMesh.Linker;

internal enum OutputFormat { Table, Wide, Json, Yaml }

/// <summary>Options every command understands.</summary>
internal static class GlobalOptions
{
    public static readonly Option<string?> Home = new("--home")
    {
        Description = "The federation's home directory (default: $FEDMESH_HOME, else ~/.fedmesh)",
        Recursive = true,
    };

    public static readonly Option<OutputFormat> Output = new("--output", "-o")
    {
        Description = "Output format: table, wide, json or yaml",
        Recursive = true,
        DefaultValueFactory = _ => OutputFormat.Table,
    };

    public static Option<string?> Cluster(string description) => new("--cluster", "--context") { Description = description };

    public static Option<string?> Namespace() => new("--namespace", "-n") { Description = "Namespace (default: all namespaces for get, 'default' otherwise)" };

    public static FederationPaths Paths(System.CommandLine.ParseResult parse) => FederationPaths.Resolve(parse.GetValue(Home));
}
