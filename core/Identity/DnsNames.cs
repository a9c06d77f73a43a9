namespace FedMesh.Core.Identity;

/// <summary>RFC 1123 label and name checks used for every part of a SPIFFE id.</summary>
public static class DnsNames
{
    /// <summary>The label rule, worded for error messages.</summary>
    public const string LabelRule = "lowercase letters, digits and '-', 1 to 63 characters, starting and ending with a letter or digit";

    /// <summary>True for a lowercase RFC 1123 label such as a cluster, namespace or service account name.</summary>
    public static bool IsLabel(ReadOnlySpan<char> s)
    {
        if (s.Length is 0 or > 63 || s[0] == '-' || s[^1] == '-')
        {
            return false;
        }
        foreach (var c in s)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>A dot-separated sequence of labels, at most 253 characters (a trust domain such as "fedmesh.local").</summary>
    public static bool IsName(ReadOnlySpan<char> s)
    {
        if (s.Length is 0 or > 253)
        {
            return false;
        }
        foreach (var range in s.Split('.'))
        {
            if (!IsLabel(s[range]))
            {
                return false;
            }
        }
        return true;
    }
}
