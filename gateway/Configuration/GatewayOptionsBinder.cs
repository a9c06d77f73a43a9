using Microsoft.Extensions.Configuration;

namespace FedMesh.Gateway.Configuration;

/// <summary>Binds <see cref="GatewayOptions"/> from command-line arguments and reports arguments it does not know.</summary>
internal static class GatewayOptionsBinder
{
    private static readonly string[] Known =
    [
        nameof(GatewayOptions.Cluster), nameof(GatewayOptions.TrustDomain), nameof(GatewayOptions.Listen),
        nameof(GatewayOptions.AdminListen), nameof(GatewayOptions.Controller), nameof(GatewayOptions.TokenFile),
    ];

    public static GatewayOptions Bind(string[] args, out List<string> problems)
    {
        problems = [];
        var options = new GatewayOptions();
        IConfigurationRoot configuration;
        try
        {
            configuration = new ConfigurationBuilder().AddCommandLine(args).Build();
        }
        catch (FormatException e)
        {
            problems.Add($"cannot read the command line: {e.Message}");
            return options;
        }
        foreach (var section in configuration.GetChildren())
        {
            if (Array.FindIndex(Known, k => string.Equals(k, section.Key, StringComparison.OrdinalIgnoreCase)) < 0)
            {
                problems.Add($"unknown option --{section.Key}; known options are --{string.Join(", --", Known)}");
            }
        }
        configuration.Bind(options);
        return options;
    }
}
