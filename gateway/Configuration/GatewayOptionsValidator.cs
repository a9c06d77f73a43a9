using System.Net;
using FedMesh.Core.Identity;

namespace FedMesh.Gateway.Configuration;

/// <summary>Checks every gateway option in one pass and describes each problem with the fix.</summary>
internal static class GatewayOptionsValidator
{
    /// <summary>Every problem with <paramref name="options"/>; empty when they are usable.</summary>
    public static List<string> Validate(GatewayOptions options, List<string>? problems = null)
    {
        problems ??= [];
        if (string.IsNullOrWhiteSpace(options.Cluster))
        {
            problems.Add("--Cluster is required: the name of the cluster this gateway serves, e.g. --Cluster west");
        }
        else if (!DnsNames.IsLabel(options.Cluster))
        {
            problems.Add($"--Cluster '{options.Cluster}' must be a DNS label ({DnsNames.LabelRule})");
        }
        if (string.IsNullOrWhiteSpace(options.TrustDomain))
        {
            problems.Add("--TrustDomain is required: the federation's trust domain, e.g. --TrustDomain fedmesh.local");
        }
        else if (!DnsNames.IsName(options.TrustDomain))
        {
            problems.Add($"--TrustDomain '{options.TrustDomain}' must be a DNS name (dot-separated labels of {DnsNames.LabelRule})");
        }
        var listen = Endpoint("--Listen", options.Listen, "127.0.0.1:7001", problems);
        var admin = Endpoint("--AdminListen", options.AdminListen, "127.0.0.1:7002", problems);
        if (listen is not null && admin is not null && listen.Port != 0 && listen.Equals(admin))
        {
            problems.Add($"--Listen and --AdminListen are both {listen}; give each its own port");
        }
        if (string.IsNullOrWhiteSpace(options.Controller))
        {
            problems.Add("--Controller is required: the controller's gRPC URL, e.g. --Controller http://127.0.0.1:7000");
        }
        else if (!Uri.TryCreate(options.Controller, UriKind.Absolute, out var controller)
            || (controller.Scheme != Uri.UriSchemeHttp && controller.Scheme != Uri.UriSchemeHttps))
        {
            problems.Add($"--Controller '{options.Controller}' must be an absolute http:// or https:// URL, e.g. http://127.0.0.1:7000");
        }
        if (string.IsNullOrWhiteSpace(options.TokenFile))
        {
            problems.Add("--TokenFile is required: the file holding the cluster's bootstrap token");
        }
        else if (!File.Exists(options.TokenFile))
        {
            problems.Add($"--TokenFile '{options.TokenFile}' does not exist");
        }
        return problems;
    }

    /// <summary>One message listing every problem, for people.</summary>
    public static string Describe(IReadOnlyList<string> problems) =>
        $"invalid gateway options ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):\n  - " + string.Join("\n  - ", problems);

    private static IPEndPoint? Endpoint(string flag, string value, string example, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            problems.Add($"{flag} is required: an IP address and port, e.g. {flag} {example}");
            return null;
        }
        if (value.IndexOf(':') < 0 || !IPEndPoint.TryParse(value, out var endpoint))
        {
            problems.Add($"{flag} '{value}' is not an IP address and port, e.g. {example}");
            return null;
        }
        return endpoint;
    }
}
