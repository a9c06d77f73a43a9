namespace FedMesh.Core.Yaml;

/// <summary>One problem in a YAML file, at a 1-based line and column.</summary>
/// <param name="File">The file name as given to the decoder.</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
/// <param name="Message">"spec.backends[1].weight: must be between 0 and 100 (got 120)".</param>
public sealed record ResourceDecodeError(string File, int Line, int Column, string Message)
{
    /// <summary>"file:line:column: message", as compilers print it.</summary>
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}
