using Microsoft.Extensions.Configuration;

namespace FedMesh.MirrorController.Hosting;

/// <summary>Binds <c>--Key value</c> arguments onto <see cref="MirrorControllerOptions"/>, collecting every problem.</summary>
internal static class CommandLineOptions
{
    private static readonly HashSet<string> Known = new(
        typeof(MirrorControllerOptions).GetProperties().Where(p => p.CanWrite).Select(p => p.Name), StringComparer.OrdinalIgnoreCase);

    public static IReadOnlyList<string> Bind(string[] args, MirrorControllerOptions options)
    {
        var errors = new List<string>();
        IConfigurationRoot configuration;
        try
        {
            configuration = new ConfigurationBuilder().AddCommandLine(args).Build();
        }
        catch (FormatException e)
        {
            return [$"cannot read the arguments: {e.Message}"];
        }
        foreach (var entry in configuration.GetChildren())
            if (!Known.Contains(entry.Key))
                errors.Add($"unknown option --{entry.Key}; known: {string.Join(", ", Known.Order().Select(k => "--" + k))}");
        foreach (var entry in configuration.GetChildren())
        {
            if (!Known.Contains(entry.Key))
                continue;
            try
            {
                new ConfigurationBuilder().AddInMemoryCollection([new(entry.Key, entry.Value)]).Build().Bind(options);
            }
            catch (InvalidOperationException e)
            {
                errors.Add($"--{entry.Key} '{entry.Value}' is not valid: {e.InnerException?.Message ?? e.Message}");
            }
        }
        if (errors.Count == 0)
            errors.AddRange(options.Validate());
        return errors;
    }
}
