namespace FedMesh.Core.Http2;

/// <summary>
/// HPACK's Huffman code for string literals (RFC 7541 §5.2, Appendix B). The code is canonical: within one length the
/// codes count up in symbol order, and every longer code is above every shorter one when both are left-aligned. So the
/// 257 code lengths (256 bytes and EOS) are the whole table: the codes are rebuilt from them once, and decoding finds a
/// symbol's length by comparing the next 32 bits with each length's upper bound.
/// </summary>
internal static class Huffman
{
    /// <summary>Appendix B's code length of each symbol, 0–255 then EOS (256).</summary>
    private static ReadOnlySpan<byte> Lengths =>
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        30,
    ];

    private const int Eos = 256;
    private const int MaxLength = 30;

    private static readonly uint[] Codes = new uint[257];           // each symbol's code, right-aligned
    private static readonly ushort[] Symbols = new ushort[257];     // the symbols in code order
    private static readonly ulong[] Limits = new ulong[MaxLength + 1]; // per length: one past its last code, left-aligned in 32 bits
    private static readonly uint[] First = new uint[MaxLength + 1];  // per length: its first code
    private static readonly int[] Offsets = new int[MaxLength + 1];  // per length: where its symbols start in Symbols
    private static readonly int MinLength;

    static Huffman()
    {
        var lengths = Lengths;
        var counts = new int[MaxLength + 1];
        foreach (var length in lengths)
            counts[length]++;
        uint code = 0;
        var offset = 0;
        MinLength = MaxLength;
        for (var length = 1; length <= MaxLength; length++)
        {
            if (counts[length] > 0 && length < MinLength)
                MinLength = length;
            First[length] = code;
            Offsets[length] = offset;
            var next = offset;
            for (var symbol = 0; symbol < lengths.Length; symbol++)
            {
                if (lengths[symbol] != length)
                    continue;
                Codes[symbol] = code++;
                Symbols[next++] = (ushort)symbol;
            }
            offset = next;
            Limits[length] = (ulong)code << (32 - length);
            code <<= 1;
        }
    }

    /// <summary>The code of <paramref name="symbol"/> (0–256) and its length in bits.</summary>
    public static (uint Code, int Length) CodeOf(int symbol) => (Codes[symbol], Lengths[symbol]);

    /// <summary>How many bytes <paramref name="value"/> takes Huffman-encoded, padding included.</summary>
    public static int EncodedLength(ReadOnlySpan<byte> value)
    {
        var lengths = Lengths;
        long bits = 0;
        foreach (var b in value)
            bits += lengths[b];
        return (int)((bits + 7) >> 3);
    }

    /// <summary>Encodes <paramref name="value"/> into <paramref name="destination"/> (at least <see cref="EncodedLength"/> bytes); returns the bytes written.</summary>
    public static int Encode(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        var lengths = Lengths;
        ulong pending = 0; // bits not yet written, right-aligned
        var count = 0;
        var written = 0;
        foreach (var b in value)
        {
            pending = (pending << lengths[b]) | Codes[b];
            count += lengths[b];
            while (count >= 8)
            {
                count -= 8;
                destination[written++] = (byte)(pending >> count);
            }
        }
        if (count > 0) // padded with the most significant bits of EOS: ones
            destination[written++] = (byte)((pending << (8 - count)) | (0xFFu >> count));
        return written;
    }

    /// <summary>The most bytes <paramref name="encodedLength"/> encoded bytes can decode to (every symbol at least 5 bits).</summary>
    public static int MaxDecodedLength(int encodedLength) => encodedLength * 8 / 5;

    /// <summary>
    /// Decodes <paramref name="encoded"/> into <paramref name="destination"/> (at least <see cref="MaxDecodedLength"/>
    /// bytes); returns the bytes written. Throws <see cref="HPackException"/> for EOS in the string, and for padding
    /// longer than 7 bits or not made of ones (§5.2).
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> encoded, Span<byte> destination)
    {
        ulong bits = 0; // the next bits, left-aligned
        var count = 0;
        var next = 0;
        var written = 0;
        while (true)
        {
            while (count <= 56 && next < encoded.Length)
            {
                bits |= (ulong)encoded[next++] << (56 - count);
                count += 8;
            }
            if (count == 0)
                return written;
            var window = bits >> 32;
            if (count < 32)
                window |= (1UL << (32 - count)) - 1; // past the end: ones, as padding would be
            var length = MinLength;
            while (window >= Limits[length])
                length++;
            if (length > count)
            {
                // What is left is shorter than the code it starts: it must be padding, under a byte and all ones.
                var padding = ulong.MaxValue << (64 - count);
                if (count > 7 || (bits & padding) != padding)
                    throw new HPackException($"a Huffman-encoded string ends in {count} bits that are not padding (at most 7 ones)");
                return written;
            }
            var symbol = Symbols[Offsets[length] + (int)((window >> (32 - length)) - First[length])];
            if (symbol == Eos)
                throw new HPackException("a Huffman-encoded string holds the EOS symbol");
            destination[written++] = (byte)symbol;
            bits <<= length;
            count -= length;
        }
    }
}
