namespace FedMesh.Core.Telemetry;

/// <summary>HTTP status classes as metric label values; a request that got no answer counts as 5xx (the caller saw a 502/504).</summary>
public static class StatusClass
{
    /// <summary>Label values, indexed by <see cref="IndexOf"/>.</summary>
    public static readonly string[] Names = ["1xx", "2xx", "3xx", "4xx", "5xx"];

    public static int Count => Names.Length;

    /// <summary>The class of <paramref name="statusCode"/>; anything outside 100..499 is a failure (5xx).</summary>
    public static int IndexOf(int statusCode) => statusCode is >= 100 and < 500 ? statusCode / 100 - 1 : 4;
}
