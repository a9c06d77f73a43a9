using System.Net;
using FedMesh.Core.Common;

namespace FedMesh.Proxy.Configuration;

/// <summary>Checks <see cref="ProxyOptions"/> in one pass and reports every problem at once.</summary>
public static class ProxyOptionsValidator
{
    /// <summary>Every problem found, one sentence each; empty when the options are usable.</summary>
    public static IReadOnlyList<string> Validate(ProxyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        RequireName(errors, "Cluster", options.Cluster);
        RequireName(errors, "Namespace", options.Namespace);
        RequireName(errors, "Service", options.Service);
        RequireName(errors, "Instance", options.Instance);
        if (!string.IsNullOrEmpty(options.ServiceAccount))
            RequireName(errors, "ServiceAccount", options.ServiceAccount);
        if (!string.IsNullOrEmpty(options.Zone))
            RequireName(errors, "Zone", options.Zone);
        if (string.IsNullOrWhiteSpace(options.TrustDomain) || options.TrustDomain.Contains('/') || options.TrustDomain.Contains(':'))
            errors.Add($"--TrustDomain '{options.TrustDomain}' is not a trust domain name (e.g. fedmesh.local).");
        RequireListen(errors, "Outbound", options.Outbound);
        RequireListen(errors, "Inbound", options.Inbound);
        RequireListen(errors, "AdminListen", options.AdminListen);
        RequireHttpUri(errors, "App", options.App, allowHttps: false);
        if (Array.IndexOf(AppProtocols.All, options.AppProtocol) < 0)
            errors.Add($"--AppProtocol '{options.AppProtocol}' is not one of {string.Join(", ", AppProtocols.All)}.");
        RequireHttpUri(errors, "Controller", options.Controller, allowHttps: true);
        if (string.IsNullOrWhiteSpace(options.TokenFile))
            errors.Add("--TokenFile is required: the file holding the cluster's bootstrap token.");
        else if (!File.Exists(options.TokenFile))
            errors.Add($"--TokenFile '{options.TokenFile}' does not exist.");
        if (options.Store is { Length: > 0 } store && File.Exists(store))
            errors.Add($"--Store '{store}' is a file; give the cluster's store directory.");
        return errors;
    }

    /// <summary>Parses an <c>ip:port</c> listen address (port 0 picks a free port).</summary>
    public static bool TryParseListen(string? value, out IPEndPoint? endpoint)
    {
        endpoint = null;
        if (string.IsNullOrWhiteSpace(value) || !value.Contains(':'))
            return false;
        if (value.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(value.AsSpan("localhost:".Length), out var port) && port is >= 0 and <= 65535)
        {
            endpoint = new IPEndPoint(IPAddress.Loopback, port);
            return true;
        }
        return IPEndPoint.TryParse(value, out endpoint);
    }

    private static void RequireName(List<string> errors, string option, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"--{option} is required.");
            return;
        }
        foreach (var c in value)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '.'))
            {
                errors.Add($"--{option} '{value}' may only hold lowercase letters, digits, '-' and '.'.");
                return;
            }
        }
    }

    private static void RequireListen(List<string> errors, string option, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            errors.Add($"--{option} is required (ip:port, e.g. 127.0.0.1:7101).");
        else if (!TryParseListen(value, out _))
            errors.Add($"--{option} '{value}' is not an ip:port listen address (e.g. 127.0.0.1:7101).");
    }

    private static void RequireHttpUri(List<string> errors, string option, string? value, bool allowHttps)
    {
        var expected = allowHttps ? "http:// or https://" : "http://";
        if (string.IsNullOrWhiteSpace(value))
            errors.Add($"--{option} is required ({expected} address, e.g. http://127.0.0.1:7100).");
        else if (!Uri.TryCreate(value, UriKind.Absolute, out var uri)
                 || !(uri.Scheme == Uri.UriSchemeHttp || (allowHttps && uri.Scheme == Uri.UriSchemeHttps)))
            errors.Add($"--{option} '{value}' is not an absolute {expected} address.");
    }
}
