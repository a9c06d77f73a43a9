using Microsoft.Extensions.Configuration;

namespace FedMesh.Proxy.Configuration;

/// <summary>Binds <see cref="ProxyOptions"/> from command-line arguments and rejects unknown ones.</summary>
internal static class ProxyOptionsBinder
{
    private static readonly string[] Known =
    [
        nameof(ProxyOptions.Cluster), nameof(ProxyOptions.TrustDomain), nameof(ProxyOptions.Namespace),
        nameof(ProxyOptions.Service), nameof(ProxyOptions.Instance), nameof(ProxyOptions.ServiceAccount),
        nameof(ProxyOptions.Zone), nameof(ProxyOptions.Outbound), nameof(ProxyOptions.Inbound),
        nameof(ProxyOptions.AdminListen), nameof(ProxyOptions.App), nameof(ProxyOptions.AppProtocol), nameof(ProxyOptions.Controller),
        nameof(ProxyOptions.TokenFile), nameof(ProxyOptions.Store),
    ];

    /// <summary>Binds and validates; <paramref name="errors"/> lists every problem (unknown options included).</summary>
    public static ProxyOptions Bind(string[] args, out List<string> errors)
    {
        errors = new List<string>();
        var options = new ProxyOptions();
        IConfigurationRoot config;
        try
        {
            config = new ConfigurationBuilder().AddCommandLine(args).Build();
        }
        catch (FormatException e)
        {
            errors.Add($"command line: {e.Message}");
            return options;
        }
        foreach (var section in config.GetChildren())
        {
            if (Array.FindIndex(Known, k => string.Equals(k, section.Key, StringComparison.OrdinalIgnoreCase)) < 0)
                errors.Add($"unknown option --{section.Key}; known options: --{string.Join(", --", Known)}.");
        }
        config.Bind(options);
        errors.AddRange(ProxyOptionsValidator.Validate(options));
        return options;
    }
}
