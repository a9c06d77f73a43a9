using System.Buffers;
using System.Text;
using FedMesh.Core.Http2;
using Xunit;

namespace FedMesh.Core.Tests.Http2;

public class HPackTests
{
    [Theory] // RFC 7541 Appendix C.1
    [InlineData(10, 5, "0a")]
    [InlineData(1337, 5, "1f9a0a")]
    [InlineData(42, 8, "2a")]
    [InlineData(31, 5, "1f00")]
    [InlineData(int.MaxValue, 7, "7f80ffffff07")]
    public void Integers_EncodeAndDecode(int value, int prefix, string hex)
    {
        var buffer = new byte[8];
        var written = HPackEncoder.WriteInteger(buffer, value, prefix, 0);
        Assert.Equal(hex, Convert.ToHexStringLower(buffer, 0, written));
        ReadOnlySpan<byte> read = buffer.AsSpan(0, written);
        Assert.Equal(value, HPackDecoder.ReadInteger(ref read, prefix));
        Assert.True(read.IsEmpty);
    }

    [Theory]
    [InlineData("7f80808080808001")] // too many continuation bytes
    [InlineData("7f8080808008")]     // 2^31 + 127: past 2^31 - 1
    [InlineData("7f80")]             // ends inside the integer
    public void Integers_TooLargeOrCut_AreErrors(string hex)
    {
        var bytes = Convert.FromHexString(hex);
        Assert.Throws<HPackException>(() => { ReadOnlySpan<byte> read = bytes; HPackDecoder.ReadInteger(ref read, 7); });
    }

    [Theory] // RFC 7541 Appendix C.2: one field each, with the table size after it
    [InlineData("400a637573746f6d2d6b65790d637573746f6d2d686561646572", "custom-key", "custom-header", false, 55)]
    [InlineData("040c2f73616d706c652f70617468", ":path", "/sample/path", false, 0)]
    [InlineData("100870617373776f726406736563726574", "password", "secret", true, 0)]
    [InlineData("82", ":method", "GET", false, 0)]
    public void SingleFields_DecodeAsTheRfcSays(string hex, string name, string value, bool neverIndexed, int tableSize)
    {
        var decoder = new HPackDecoder();
        var fields = new Fields();
        Assert.True(decoder.Decode(Convert.FromHexString(hex), fields));
        Assert.Equal([(name, value, neverIndexed)], fields.List);
        Assert.Equal(tableSize, decoder.TableSize);
    }

    [Fact] // RFC 7541 Appendix C.4: three requests on one connection, Huffman-encoded, through the dynamic table
    public void Requests_DecodeAsTheRfcSays_AndTheEncoderWritesTheSameBytes()
    {
        (string Hex, (string, string)[] Fields, int Size)[] requests =
        [
            ("828684418cf1e3c2e5f23a6ba0ab90f4ff", [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")], 57),
            ("828684be5886a8eb10649cbf", [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"), ("cache-control", "no-cache")], 110),
            ("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf", [(":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value")], 164),
        ];
        var decoder = new HPackDecoder();
        var encoder = new HPackEncoder();
        foreach (var (hex, expected, size) in requests)
        {
            var fields = new Fields();
            Assert.True(decoder.Decode(Convert.FromHexString(hex), fields));
            Assert.Equal(expected.Select(f => (f.Item1, f.Item2, false)), fields.List);
            Assert.Equal(size, decoder.TableSize);
            Assert.Equal(hex, Encode(encoder, expected));
            Assert.Equal(size, encoder.TableSize);
        }
    }

    [Fact] // RFC 7541 Appendix C.6: three responses through a 256-byte table, entries evicted on the way
    public void Responses_ThroughASmallTable_DecodeAsTheRfcSays_WithEvictions()
    {
        (string Hex, (string, string)[] Fields, int Size)[] responses =
        [
            ("488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
                [(":status", "302"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")], 222),
            ("4883640effc1c0bf",
                [(":status", "307"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")], 222),
            ("88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
                [(":status", "200"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT"), ("location", "https://www.example.com"),
                 ("content-encoding", "gzip"), ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")], 215),
        ];
        var decoder = new HPackDecoder(maxTableSize: 256);
        decoder.Decode(Convert.FromHexString("3f e1 01".Replace(" ", "")), new Fields()); // the peer shrinks the table to 256
        foreach (var (hex, expected, size) in responses)
        {
            var fields = new Fields();
            Assert.True(decoder.Decode(Convert.FromHexString(hex), fields));
            Assert.Equal(expected.Select(f => (f.Item1, f.Item2, false)), fields.List);
            Assert.Equal(size, decoder.TableSize);
        }
    }

    [Fact]
    public void EncoderAndDecoder_StayInStep_OverManyBlocks_AsTheTableFillsAndEvicts()
    {
        var encoder = new HPackEncoder();
        var decoder = new HPackDecoder();
        var random = new Random(11);
        for (var block = 0; block < 300; block++)
        {
            var fields = new List<(string, string)>
            {
                (":method", block % 3 == 0 ? "POST" : "GET"), (":scheme", "https"), (":path", "/items/" + random.Next(1000)),
                (":authority", "svc-" + random.Next(20) + ".mesh"), ("user-agent", "grpc-dotnet/2." + random.Next(5)),
                ("x-tenant", new string('t', random.Next(0, 1500))), ("authorization", "Bearer " + random.Next()),
            }.Select(f => (f.Item1, f.Item2, f.Item1 == "authorization")).ToList();
            var output = new ArrayBufferWriter<byte>();
            encoder.StartBlock(output);
            foreach (var (name, value, _) in fields)
                encoder.Encode(output, Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value));
            var decoded = new Fields();
            Assert.True(decoder.Decode(output.WrittenSpan, decoded));
            Assert.Equal(fields, decoded.List);
            Assert.Equal(encoder.TableSize, decoder.TableSize);
            Assert.True(decoder.TableSize <= 4096);
        }
    }

    [Fact]
    public void NeverIndexedFields_StayOutOfTheTable_AndAreMarkedForTheNextHop()
    {
        var encoder = new HPackEncoder();
        var output = new ArrayBufferWriter<byte>();
        encoder.StartBlock(output);
        encoder.Encode(output, "x-secret"u8, "s3cret"u8, neverIndexed: true);
        encoder.Encode(output, "x-secret"u8, "s3cret"u8, neverIndexed: true);
        Assert.Equal(0, encoder.TableSize);
        var fields = new Fields();
        new HPackDecoder().Decode(output.WrittenSpan, fields);
        Assert.Equal([("x-secret", "s3cret", true), ("x-secret", "s3cret", true)], fields.List);
    }

    [Fact]
    public void ATableSizeSetting_IsAnnouncedAtTheNextBlock_AndBoundsTheTable()
    {
        var encoder = new HPackEncoder();
        var decoder = new HPackDecoder(maxTableSize: 100);
        encoder.SetPeerTableSize(100);
        var output = new ArrayBufferWriter<byte>();
        encoder.StartBlock(output);
        Assert.Equal(0x3f, output.WrittenSpan[0] & 0xff); // a size update (001) with the 5-bit prefix full: 100 = 31 + 69
        encoder.Encode(output, "x-long"u8, Encoding.ASCII.GetBytes(new string('v', 40)));
        encoder.Encode(output, "x-other"u8, "w"u8);
        var fields = new Fields();
        Assert.True(decoder.Decode(output.WrittenSpan, fields));
        Assert.Equal(2, fields.List.Count);
        Assert.Equal(encoder.TableSize, decoder.TableSize);
        Assert.True(decoder.TableSize <= 100);
    }

    [Fact]
    public void ATableSizeLoweredThenRaisedBeforeABlock_AnnouncesTheSmallestThenTheLast()
    {
        var encoder = new HPackEncoder();
        var decoder = new HPackDecoder();
        var first = new ArrayBufferWriter<byte>();
        encoder.StartBlock(first);
        encoder.Encode(first, "x-kept"u8, "one"u8); // now in both tables
        Assert.True(decoder.Decode(first.WrittenSpan, new Fields()));
        Assert.True(encoder.TableSize > 0);

        encoder.SetPeerTableSize(0); // empties the table
        encoder.SetPeerTableSize(4096);
        var second = new ArrayBufferWriter<byte>();
        encoder.StartBlock(second);
        Assert.Equal("203fe11f", Convert.ToHexString(second.WrittenSpan).ToLowerInvariant()); // 0, then 4,096 (RFC 7541 §4.2)
        encoder.Encode(second, "x-kept"u8, "one"u8); // a literal again: the entry went with the empty table
        var fields = new Fields();
        Assert.True(decoder.Decode(second.WrittenSpan, fields));
        Assert.Equal([("x-kept", "one", false)], fields.List);
        Assert.Equal(encoder.TableSize, decoder.TableSize);

        encoder.SetPeerTableSize(200);
        encoder.SetPeerTableSize(100); // lowered twice: the last is the smallest, said once
        var third = new ArrayBufferWriter<byte>();
        encoder.StartBlock(third);
        Assert.Equal("3f45", Convert.ToHexString(third.WrittenSpan).ToLowerInvariant());
    }

    [Theory]
    [InlineData("80", "index 0")]
    [InlineData("be", "index 62")]                       // the dynamic table is empty
    [InlineData("823f9a0a", "after a field")]            // a size update after the block's first field
    [InlineData("3fe21f", "exceeds")]                    // a size update to 4,097 past the 4,096 allowed
    [InlineData("400a637573746f6d2d6b6579", "ends")]     // a literal whose value is missing
    [InlineData("0081000161", "padding")]                // a Huffman name, '0' then padding of zeros
    [InlineData("000f61", "runs past")]                  // a 15-byte name with one byte left
    public void BrokenBlocks_AreErrorsThatSayWhatIsWrong(string hex, string expected)
    {
        var error = Assert.Throws<HPackException>(() => new HPackDecoder().Decode(Convert.FromHexString(hex), new Fields()));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void AHeaderListOverTheLimit_IsReportedButTheTableStaysInStep()
    {
        var encoder = new HPackEncoder();
        var decoder = new HPackDecoder(maxHeaderListSize: 200);
        var output = new ArrayBufferWriter<byte>();
        encoder.StartBlock(output);
        encoder.Encode(output, "x-a"u8, Encoding.ASCII.GetBytes(new string('a', 100)));
        encoder.Encode(output, "x-b"u8, Encoding.ASCII.GetBytes(new string('b', 100))); // the list passes 200 here
        var fields = new Fields();
        Assert.False(decoder.Decode(output.WrittenSpan, fields));
        Assert.Single(fields.List);
        Assert.Equal(encoder.TableSize, decoder.TableSize); // both literals were still added to the table
    }

    private static string Encode(HPackEncoder encoder, (string Name, string Value)[] fields)
    {
        var output = new ArrayBufferWriter<byte>();
        encoder.StartBlock(output);
        foreach (var (name, value) in fields)
            encoder.Encode(output, Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value));
        return Convert.ToHexStringLower(output.WrittenSpan);
    }

    private sealed class Fields : IHeaderSink
    {
        public List<(string Name, string Value, bool NeverIndexed)> List { get; } = [];

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed) =>
            List.Add((Encoding.ASCII.GetString(name), Encoding.ASCII.GetString(value), neverIndexed));
    }
}
