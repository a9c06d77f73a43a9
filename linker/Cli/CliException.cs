namespace FedMesh.Linker;

/// <summary>A failure to report to the user as is (no stack trace), with the exit code to return.</summary>
internal sealed class CliException(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
}

internal static class Names
{
    /// <summary>RFC 1123 label: lower-case letters, digits and '-', starting and ending alphanumeric, at most 63.</summary>
    public static bool IsDnsLabel(string? s)
    {
        if (string.IsNullOrEmpty(s) || s.Length > 63) return false;
        for (var i = 0; i < s.Length; i++)
        {
            var ch = s[i];
            var ok = ch is >= 'a' and <= 'z' or >= '0' and <= '9' || (ch == '-' && i > 0 && i < s.Length - 1);
            if (!ok) return false;
        }
        return true;
    }
}
