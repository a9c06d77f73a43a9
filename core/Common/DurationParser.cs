using System.Globalization;
using System.Text;

namespace FedMesh.Core.Common;

/// <summary>
/// Durations as written in resources: a sequence of number+unit pairs such as "500ms", "1s",
/// "1m30s", "2h", "250us" or "1.5s". Units: h, m, s, ms, us (or µs), ns. "0" alone means zero.
/// Negative durations are not accepted.
/// </summary>
public static class DurationParser
{
    /// <summary>What a valid duration looks like, for error messages.</summary>
    public const string Expected = "a number followed by a unit (h, m, s, ms, us, ns), e.g. \"500ms\", \"30s\" or \"1m30s\"";

    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> saying what is wrong and what is expected.</summary>
    public static TimeSpan Parse(string text)
        => TryParse(text, out var value, out var error) ? value : throw new FormatException(error);

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string? text, out TimeSpan value, out string error)
    {
        value = TimeSpan.Zero;
        error = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = $"empty duration; expected {Expected}";
            return false;
        }
        if (text == "0")
            return true;

        decimal ticks = 0;
        var i = 0;
        while (i < text.Length)
        {
            var numberStart = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
                i++;
            if (i == numberStart)
            {
                error = $"invalid duration \"{text}\": expected a number at position {i + 1}; expected {Expected}";
                return false;
            }
            if (!decimal.TryParse(text.AsSpan(numberStart, i - numberStart), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                error = $"invalid duration \"{text}\": \"{text[numberStart..i]}\" is not a number; expected {Expected}";
                return false;
            }
            var unitStart = i;
            while (i < text.Length && !char.IsAsciiDigit(text[i]) && text[i] != '.')
                i++;
            var unit = text[unitStart..i];
            var ticksPerUnit = TicksPer(unit);
            if (ticksPerUnit == 0)
            {
                error = unit.Length == 0
                    ? $"invalid duration \"{text}\": missing unit after \"{text[numberStart..i]}\"; expected {Expected}"
                    : $"invalid duration \"{text}\": unknown unit \"{unit}\"; expected {Expected}";
                return false;
            }
            ticks += number * ticksPerUnit;
            if (ticks > TimeSpan.MaxValue.Ticks)
            {
                error = $"invalid duration \"{text}\": too large";
                return false;
            }
        }
        value = TimeSpan.FromTicks((long)decimal.Round(ticks));
        return true;
    }

    /// <summary>Formats <paramref name="value"/> so that <see cref="Parse"/> gives it back: "1h2m3s", "1s500ms", "250us".</summary>
    public static string Format(TimeSpan value)
    {
        if (value < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(value), value, "A duration cannot be negative.");
        if (value == TimeSpan.Zero)
            return "0s";
        var sb = new StringBuilder();
        var ticks = value.Ticks;
        Append(sb, ref ticks, TimeSpan.TicksPerHour, "h");
        Append(sb, ref ticks, TimeSpan.TicksPerMinute, "m");
        Append(sb, ref ticks, TimeSpan.TicksPerSecond, "s");
        Append(sb, ref ticks, TimeSpan.TicksPerMillisecond, "ms");
        Append(sb, ref ticks, TimeSpan.TicksPerMicrosecond, "us");
        if (ticks > 0)
            sb.Append(ticks * TimeSpan.NanosecondsPerTick).Append("ns");
        return sb.ToString();
    }

    private static void Append(StringBuilder sb, ref long ticks, long unit, string suffix)
    {
        var count = ticks / unit;
        if (count == 0) return;
        sb.Append(count.ToString(CultureInfo.InvariantCulture)).Append(suffix);
        ticks -= count * unit;
    }

    private static decimal TicksPer(string unit) => unit switch
    {
        "h" => TimeSpan.TicksPerHour,
        "m" => TimeSpan.TicksPerMinute,
        "s" => TimeSpan.TicksPerSecond,
        "ms" => TimeSpan.TicksPerMillisecond,
        "us" or "µs" or "μs" => TimeSpan.TicksPerMicrosecond,
        "ns" => 1m / TimeSpan.NanosecondsPerTick,
        _ => 0m,
    };
}
