using System.Globalization;
using System.Net;
using FedMesh.Core.Common;

namespace FedMesh.Core.Validation;

/// <summary>Field rules shared by the kind validators. Each adds at most one error per call.</summary>
internal static class FieldChecks
{
    public const int MaxLabelLength = 63;

    /// <summary>A DNS-1123 label: lower-case letters, digits and '-', starting and ending alphanumeric, at most 63.</summary>
    public static void DnsLabel(ValidationCollector c, string path, string? value, bool required = true)
    {
        if (string.IsNullOrEmpty(value))
        {
            if (required) c.Add(path, "is required");
            return;
        }
        if (!IsDnsLabel(value, out var why))
            c.Add(path, $"\"{value}\" is not a valid name: {why}; use lower-case letters, digits and '-', e.g. \"my-service\"");
    }

    public static bool IsDnsLabel(string value, out string why)
    {
        why = "";
        if (value.Length > MaxLabelLength) { why = $"longer than {MaxLabelLength} characters ({value.Length})"; return false; }
        foreach (var ch in value)
            if (!(char.IsAsciiLetterLower(ch) || char.IsAsciiDigit(ch) || ch == '-')) { why = $"character '{ch}' is not allowed"; return false; }
        if (value[0] == '-' || value[^1] == '-') { why = "it must start and end with a letter or digit"; return false; }
        return true;
    }

    /// <summary>"host:port" with a DNS name, an IPv4 address or a bracketed IPv6 address, and a port 1..65535.</summary>
    public static void HostPort(ValidationCollector c, string path, string? value, bool required = true)
    {
        if (string.IsNullOrEmpty(value))
        {
            if (required) c.Add(path, "is required (host:port, e.g. \"127.0.0.1:4143\")");
            return;
        }
        if (!TrySplitHostPort(value, out var host, out var port, out var why))
            c.Add(path, $"\"{value}\" is not host:port: {why}; write it like \"127.0.0.1:4143\", \"gw.example.org:4143\" or \"[::1]:4143\"");
        else if (!IsHost(host))
            c.Add(path, $"\"{value}\" has an invalid host \"{host}\"; use a DNS name or an IP address");
        else if (port is < 1 or > 65535)
            c.Add(path, $"\"{value}\" has port {port}; a port must be between 1 and 65535");
    }

    private static bool TrySplitHostPort(string value, out string host, out int port, out string why)
    {
        host = ""; port = 0; why = "";
        int colon;
        if (value.StartsWith('['))
        {
            var close = value.IndexOf(']');
            if (close < 0 || close + 1 >= value.Length || value[close + 1] != ':') { why = "an IPv6 address needs the form [address]:port"; return false; }
            host = value[1..close];
            colon = close + 1;
            if (!IPAddress.TryParse(host, out _)) { why = $"\"{host}\" is not an IPv6 address"; return false; }
        }
        else
        {
            colon = value.LastIndexOf(':');
            if (colon < 0) { why = "the port is missing"; return false; }
            host = value[..colon];
            if (host.Contains(':')) { why = "an IPv6 address must be in brackets"; return false; }
        }
        var portText = value[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port)) { why = $"port \"{portText}\" is not a number"; return false; }
        if (host.Length == 0) { why = "the host is missing"; return false; }
        return true;
    }

    private static bool IsHost(string host)
    {
        if (IPAddress.TryParse(host, out _)) return true;
        if (host.Length > 253) return false;
        foreach (var label in host.Split('.'))
        {
            if (label.Length is 0 or > MaxLabelLength || label[0] == '-' || label[^1] == '-') return false;
            foreach (var ch in label)
                if (!(char.IsAsciiLetterOrDigit(ch) || ch == '-')) return false;
        }
        return true;
    }

    /// <summary>A SPIFFE id: spiffe://trust-domain/path, without port, user, query or fragment.</summary>
    public static void SpiffeId(ValidationCollector c, string path, string? value, bool required = true)
    {
        if (string.IsNullOrEmpty(value))
        {
            if (required) c.Add(path, "is required (a SPIFFE id such as \"spiffe://fedmesh.local/cluster/west/ns/fedmesh-system/sa/gateway\")");
            return;
        }
        var ok = Uri.TryCreate(value, UriKind.Absolute, out var uri)
                 && uri.Scheme == "spiffe" && uri.Host.Length > 0 && uri.IsDefaultPort
                 && uri.UserInfo.Length == 0 && uri.Query.Length == 0 && uri.Fragment.Length == 0;
        if (!ok)
            c.Add(path, $"\"{value}\" is not a SPIFFE id; expected spiffe://<trust-domain>/<path>, e.g. \"spiffe://fedmesh.local/cluster/west/ns/fedmesh-system/sa/gateway\"");
    }

    /// <summary>A duration such as "500ms"; with <paramref name="positive"/>, zero is refused too.</summary>
    public static void Duration(ValidationCollector c, string path, string? value, bool required = true, bool positive = true)
    {
        if (string.IsNullOrEmpty(value))
        {
            if (required) c.Add(path, $"is required ({DurationParser.Expected})");
            return;
        }
        if (!DurationParser.TryParse(value, out var d, out var error))
            c.Add(path, error);
        else if (positive && d <= TimeSpan.Zero)
            c.Add(path, $"must be greater than zero (got \"{value}\")");
    }

    public static void Range(ValidationCollector c, string path, long value, long min, long max)
    {
        if (value < min || value > max)
            c.Add(path, $"must be between {min} and {max} (got {value})");
    }

    public static void Range(ValidationCollector c, string path, double value, double min, double max)
    {
        if (double.IsNaN(value) || value < min || value > max)
            c.Add(path, $"must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)} (got {value.ToString(CultureInfo.InvariantCulture)})");
    }

    public static void Required(ValidationCollector c, string path, string? value, string example)
    {
        if (string.IsNullOrEmpty(value))
            c.Add(path, $"is required (e.g. {example})");
    }
}
