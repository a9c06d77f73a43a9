using FedMesh.Core.Common;

namespace FedMesh.Core.Tests.Common;

public sealed class DurationParserTests
{
    [Theory]
    [InlineData("500ms", 5_000_000L)]
    [InlineData("1s", 10_000_000L)]
    [InlineData("1m30s", 900_000_000L)]
    [InlineData("2h", 72_000_000_000L)]
    [InlineData("250us", 2_500L)]
    [InlineData("1.5s", 15_000_000L)]
    [InlineData("100ns", 1L)]
    [InlineData("0", 0L)]
    public void Parse_ValidText_ReturnsTicks(string text, long ticks) => Assert.Equal(TimeSpan.FromTicks(ticks), DurationParser.Parse(text));

    [Theory]
    [InlineData("", "empty duration")]
    [InlineData("10", "missing unit")]
    [InlineData("5x", "unknown unit \"x\"")]
    [InlineData("1d", "unknown unit \"d\"")]
    [InlineData("-1s", "expected a number")]
    [InlineData("s", "expected a number")]
    [InlineData("1.2.3s", "is not a number")]
    public void Parse_InvalidText_ThrowsSayingWhatAndWhatIsExpected(string text, string why)
    {
        var e = Assert.Throws<FormatException>(() => DurationParser.Parse(text));
        Assert.Contains(why, e.Message);
        Assert.Contains("e.g. \"500ms\"", e.Message);
    }

    [Theory]
    [InlineData("1h2m3s")]
    [InlineData("1s500ms")]
    [InlineData("250us")]
    [InlineData("0s")]
    [InlineData("1m")]
    public void Format_ThenParse_RoundTrips(string text)
        => Assert.Equal(text, DurationParser.Format(DurationParser.Parse(text)));

    [Fact]
    public void Format_Negative_Throws()
        => Assert.Throws<ArgumentOutOfRangeException>(() => DurationParser.Format(TimeSpan.FromSeconds(-1)));
}
