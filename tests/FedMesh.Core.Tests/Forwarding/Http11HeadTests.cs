using System.Text;
using FedMesh.Core.Forwarding;

namespace FedMesh.Core.Tests.Forwarding;

public sealed class Http11HeadTests
{
    private static byte[] B(string text) => Encoding.Latin1.GetBytes(text);

    [Theory]
    [InlineData("HTTP/1.1 200 OK", 200, false)]
    [InlineData("HTTP/1.1 200", 200, false)] // the reason phrase may be missing
    [InlineData("HTTP/1.1 204 ", 204, false)]
    [InlineData("HTTP/1.0 404 Not Found", 404, true)]
    [InlineData("HTTP/1.1 100 Continue", 100, false)]
    [InlineData("HTTP/1.1 599 Whatever it says, with spaces", 599, false)]
    public void TryParseStatusLine_Valid_StatusAndVersion(string line, int status, bool http10)
    {
        Assert.True(Http11Head.TryParseStatusLine(B(line), out var parsed, out var isHttp10));
        Assert.Equal(status, parsed);
        Assert.Equal(http10, isHttp10);
    }

    [Theory]
    [InlineData("")]
    [InlineData("HTTP/1.1")]
    [InlineData("HTTP/1.1 20")]
    [InlineData("HTTP/1.1 2000 OK")]
    [InlineData("HTTP/1.1  200 OK")]
    [InlineData("HTTP/1.1 2x0 OK")]
    [InlineData("HTTP/1.1 +20 OK")]
    [InlineData("HTTP/1.1 -20 OK")]
    [InlineData("HTTP/1.1 099 Low")]
    [InlineData("HTTP/1.2 200 OK")]
    [InlineData("HTTP/2 200 OK")]
    [InlineData("HTTP/2.0 200 OK")]
    [InlineData("http/1.1 200 OK")]
    [InlineData("HTTP/1.1\t200 OK")]
    public void TryParseStatusLine_Invalid_False(string line)
    {
        Assert.False(Http11Head.TryParseStatusLine(B(line), out _, out _));
    }

    [Theory]
    [InlineData("Content-Type: text/plain", "Content-Type", "text/plain")]
    [InlineData("x-a:b", "x-a", "b")]
    [InlineData("x-a: \t padded \t ", "x-a", "padded")]
    [InlineData("x-empty:", "x-empty", "")]
    [InlineData("x-colon: a:b:c", "x-colon", "a:b:c")]
    [InlineData("x-tab: a\tb", "x-tab", "a\tb")]
    [InlineData("x-latin1: caf\u00e9", "x-latin1", "caf\u00e9")]
    [InlineData("!#$%&'*+-.^_`|~09AZaz: token chars", "!#$%&'*+-.^_`|~09AZaz", "token chars")]
    public void TrySplitField_Valid_NameAndTrimmedValue(string line, string name, string value)
    {
        var bytes = B(line);
        Assert.True(Http11Head.TrySplitField(bytes, out var nameLength, out var valueStart, out var valueLength));
        Assert.Equal(name, Encoding.Latin1.GetString(bytes, 0, nameLength));
        Assert.Equal(value, Encoding.Latin1.GetString(bytes, valueStart, valueLength));
    }

    [Theory]
    [InlineData("x-a : b")] // whitespace before the colon (RFC 9112 §5.1)
    [InlineData("x-a\t: b")]
    [InlineData(" folded continuation")] // obs-fold
    [InlineData("\tfolded: continuation")]
    [InlineData(": no name")]
    [InlineData("no colon")]
    [InlineData("")]
    [InlineData("x a: b")]
    [InlineData("x(a): b")]
    [InlineData("x-a: b\u0000c")]
    [InlineData("x-a: b\rc")]
    [InlineData("x-a: b\nc")]
    [InlineData("x-a: b\u007fc")]
    [InlineData("x-\u00e9: b")]
    public void TrySplitField_Malformed_False(string line)
    {
        Assert.False(Http11Head.TrySplitField(B(line), out _, out _, out _));
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("5", 5L)]
    [InlineData("0042", 42L)]
    [InlineData("123456789012345678", 123456789012345678L)]
    public void TryParseLength_Digits_Parsed(string value, long length)
    {
        Assert.True(Http11Head.TryParseLength(B(value), out var parsed));
        Assert.Equal(length, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1.0")]
    [InlineData("1 2")]
    [InlineData("5, 5")]
    [InlineData("0x10")]
    [InlineData("1234567890123456789")] // past 18 digits: could overflow
    public void TryParseLength_NotDigitsOnly_False(string value)
    {
        Assert.False(Http11Head.TryParseLength(B(value), out _));
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("a", 10L)]
    [InlineData("A", 10L)]
    [InlineData("1f", 31L)]
    [InlineData("00FF", 255L)]
    [InlineData("10;name=value", 16L)]
    [InlineData("10 ;name", 16L)]
    [InlineData("10\t;name=\"quoted;\"", 16L)]
    [InlineData("fffffffffffffff", 0xfffffffffffffffL)]
    public void TryParseChunkSize_Valid_Parsed(string line, long size)
    {
        Assert.True(Http11Head.TryParseChunkSize(B(line), out var parsed));
        Assert.Equal(size, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData(";ext")]
    [InlineData("g")]
    [InlineData("0x10")]
    [InlineData("-1")]
    [InlineData(" 10")]
    [InlineData("1 0")]
    [InlineData("10 junk")]
    [InlineData("1000000000000000")] // 16 hex digits: could overflow
    public void TryParseChunkSize_Malformed_False(string line)
    {
        Assert.False(Http11Head.TryParseChunkSize(B(line), out _));
    }

    [Theory]
    [InlineData("chunked", true)]
    [InlineData("Chunked", true)]
    [InlineData("gzip, chunked", true)]
    [InlineData("gzip,chunked ", true)]
    [InlineData("chunked, gzip", false)]
    [InlineData("gzip", false)]
    [InlineData("", false)]
    [InlineData("notchunked", false)]
    public void EndsChunked_LastCoding_Decides(string value, bool chunked)
    {
        Assert.Equal(chunked, Http11Head.EndsChunked(B(value)));
    }

    [Theory]
    [InlineData("close", "close", true)]
    [InlineData("Keep-Alive, Close", "close", true)]
    [InlineData("x-a ,\tclose\t", "close", true)]
    [InlineData("closed", "close", false)]
    [InlineData("x-close", "close", false)]
    [InlineData("", "close", false)]
    [InlineData("keep-alive", "close", false)]
    public void ListHas_Token_FoundOnlyAsAWholeElement(string list, string token, bool found)
    {
        Assert.Equal(found, Http11Head.ListHas(B(list), B(token)));
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\n\r\n", 19)]
    [InlineData("HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody", 25)]
    [InlineData("HTTP/1.1 200 OK\r\nA: b\r\n", -1)]
    [InlineData("HTTP/1.1 200 OK\n\n", -1)]
    public void HeadLength_UpToTheEmptyLine(string data, int length)
    {
        Assert.Equal(length, Http11Head.HeadLength(B(data)));
    }

    [Fact]
    public void Name_CommonName_SharedInstance()
    {
        Assert.Same(Http11Head.Name(B("content-type")), Http11Head.Name(B("Content-Type")));
        Assert.Equal("x-rare-header", Http11Head.Name(B("x-rare-header")));
    }
}
