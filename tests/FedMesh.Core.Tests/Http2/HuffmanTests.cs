using System.Text;
using FedMesh.Core.Http2;
using Xunit;

namespace FedMesh.Core.Tests.Http2;

public class HuffmanTests
{
    [Theory] // codes as RFC 7541 Appendix B lists them
    [InlineData(0, 0x1ff8u, 13)]
    [InlineData(1, 0x7fffd8u, 23)]
    [InlineData(10, 0x3ffffffcu, 30)]
    [InlineData(' ', 0x14u, 6)]
    [InlineData('0', 0x0u, 5)]
    [InlineData('a', 0x3u, 5)]
    [InlineData('z', 0x7bu, 7)]
    [InlineData('~', 0x1ffdu, 13)]
    [InlineData(255, 0x3ffffeeu, 26)]
    [InlineData(256, 0x3fffffffu, 30)]
    public void Codes_AreTheRfcs(int symbol, uint code, int length) => Assert.Equal((code, length), Huffman.CodeOf(symbol));

    [Theory] // RFC 7541 Appendix C.4 and C.6
    [InlineData("www.example.com", "f1e3c2e5f23a6ba0ab90f4ff")]
    [InlineData("no-cache", "a8eb10649cbf")]
    [InlineData("custom-key", "25a849e95ba97d7f")]
    [InlineData("custom-value", "25a849e95bb8e8b4bf")]
    [InlineData("302", "6402")]
    [InlineData("private", "aec3771a4b")]
    [InlineData("Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff")]
    [InlineData("https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3")]
    public void EncodesAndDecodes_TheRfcsExamples(string text, string hex)
    {
        var plain = Encoding.ASCII.GetBytes(text);
        var encoded = Convert.FromHexString(hex);
        Assert.Equal(encoded.Length, Huffman.EncodedLength(plain));
        var buffer = new byte[Huffman.EncodedLength(plain)];
        Assert.Equal(encoded.Length, Huffman.Encode(plain, buffer));
        Assert.Equal(encoded, buffer);
        Assert.Equal(text, Decode(encoded));
    }

    [Fact]
    public void EveryByte_RoundTrips_AloneAndTogether()
    {
        var all = new byte[256];
        for (var i = 0; i < 256; i++)
        {
            all[i] = (byte)i;
            var one = new[] { (byte)i };
            Assert.Equal(one, RoundTrip(one));
        }
        Assert.Equal(all, RoundTrip(all));
        var random = new Random(7);
        for (var round = 0; round < 200; round++)
        {
            var bytes = new byte[random.Next(0, 64)];
            random.NextBytes(bytes);
            Assert.Equal(bytes, RoundTrip(bytes));
        }
    }

    [Fact]
    public void Padding_OfUpToSevenOnes_IsAccepted() => Assert.Equal("0", Decode([0x07])); // '0' is 00000, then 111

    [Theory]
    [InlineData(new byte[] { 0x00 })]       // '0' then 000: padding that is not EOS's leading ones
    [InlineData(new byte[] { 0xff })]       // eight ones: padding longer than 7 bits
    [InlineData(new byte[] { 0x1f, 0xff })] // 'a' (00011), then eleven ones
    public void Padding_NotUnderAByteOfOnes_IsAnError(byte[] encoded) =>
        Assert.Contains("padding", Assert.Throws<HPackException>(() => Decode(encoded)).Message);

    [Fact]
    public void Eos_InTheString_IsAnError()
    {
        // EOS is 30 ones; followed by two more ones it fills 4 bytes exactly.
        var error = Assert.Throws<HPackException>(() => Decode([0xff, 0xff, 0xff, 0xff]));
        Assert.Contains("EOS", error.Message);
    }

    private static byte[] RoundTrip(byte[] plain)
    {
        var encoded = new byte[Huffman.EncodedLength(plain)];
        Huffman.Encode(plain, encoded);
        var decoded = new byte[Huffman.MaxDecodedLength(encoded.Length)];
        return decoded.AsSpan(0, Huffman.Decode(encoded, decoded)).ToArray();
    }

    private static string Decode(byte[] encoded)
    {
        var decoded = new byte[Huffman.MaxDecodedLength(encoded.Length)];
        return Encoding.ASCII.GetString(decoded, 0, Huffman.Decode(encoded, decoded));
    }
}
