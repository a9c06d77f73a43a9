namespace FedMesh.Core.Http2;

/// <summary>Receives the fields of a header block as the decoder reads them; the spans hold only for the call.</summary>
internal interface IHeaderSink
{
    /// <param name="neverIndexed">
    /// Sent as never indexed (§6.2.3): a relay must encode it the same way on its next hop (§7.1.3).
    /// </param>
    void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed);
}

/// <summary>
/// Decodes the header blocks one peer's encoder sends on a connection (RFC 7541 §6), in order: a whole block at a time
/// (HEADERS and its CONTINUATION frames put together), keeping the dynamic table in step with the peer's.
/// </summary>
internal sealed class HPackDecoder
{
    private readonly HPackDynamicTable _table;
    private readonly int _maxTableSize;
    private readonly int _maxHeaderListSize;
    private byte[] _huffman = [];

    /// <param name="maxTableSize">The SETTINGS_HEADER_TABLE_SIZE this side sent: the most the peer may make the table.</param>
    /// <param name="maxHeaderListSize">The most a block's fields may add up to (§4.1's size: name, value and 32 each).</param>
    public HPackDecoder(int maxTableSize = 4096, int maxHeaderListSize = 64 * 1024)
    {
        _maxTableSize = maxTableSize;
        _maxHeaderListSize = maxHeaderListSize;
        _table = new HPackDynamicTable(maxTableSize);
    }

    /// <summary>The dynamic table's size now (§4.1).</summary>
    public int TableSize => _table.Size;

    /// <summary>
    /// Decodes one whole header block, giving each field to <paramref name="sink"/>. Returns false when the fields add
    /// up to more than the header list may: the block is still decoded to its end (the table must stay in step) but
    /// the fields past the limit are not given. Throws <see cref="HPackException"/> for a block that breaks RFC 7541.
    /// </summary>
    public bool Decode<TSink>(ReadOnlySpan<byte> block, TSink sink) where TSink : IHeaderSink
    {
        var listSize = 0;
        var fits = true;
        var fields = 0;
        while (!block.IsEmpty)
        {
            var first = block[0];
            ReadOnlySpan<byte> name, value;
            var neverIndexed = false;
            if ((first & 0x80) != 0) // indexed field (§6.1)
            {
                var index = ReadInteger(ref block, 7);
                if (index == 0)
                    throw new HPackException("a header block refers to index 0");
                Lookup(index, out name, out value);
            }
            else if ((first & 0xE0) == 0x20) // dynamic table size update (§6.3)
            {
                var size = ReadInteger(ref block, 5);
                if (fields > 0)
                    throw new HPackException("a dynamic table size update comes after a field of its header block");
                if (size > _maxTableSize)
                    throw new HPackException($"a dynamic table size update to {size} bytes exceeds the {_maxTableSize} allowed");
                _table.Resize(size);
                continue;
            }
            else
            {
                // A literal: with incremental indexing (01), without (0000) or never indexed (0001), by a 6- or 4-bit prefix.
                var indexing = (first & 0xC0) == 0x40;
                neverIndexed = (first & 0xF0) == 0x10;
                var nameIndex = ReadInteger(ref block, indexing ? 6 : 4);
                if (nameIndex == 0)
                    name = ReadString(ref block, 0);
                else
                    Lookup(nameIndex, out name, out _);
                value = ReadString(ref block, name.Length);
                if (indexing)
                    _table.Insert(name, value);
            }
            fields++;
            listSize += name.Length + value.Length + HPackDynamicTable.EntryOverhead;
            if (listSize > _maxHeaderListSize)
                fits = false;
            if (fits)
                sink.OnHeader(name, value, neverIndexed);
        }
        return fits;
    }

    private void Lookup(int index, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        if (index <= HPackStaticTable.Count)
        {
            name = HPackStaticTable.Name(index);
            value = HPackStaticTable.Value(index);
            return;
        }
        var dynamic = index - HPackStaticTable.Count - 1;
        if (dynamic >= _table.Count)
            throw new HPackException($"a header block refers to index {index}, past the table's {HPackStaticTable.Count + _table.Count} entries");
        var entry = _table[dynamic];
        name = entry.Name;
        value = entry.Value;
    }

    /// <summary>
    /// A string literal (§5.2): raw bytes are a slice of the block; Huffman-decoded ones go to the decoder's scratch
    /// array from <paramref name="scratchOffset"/> on (a name's decoded bytes come first, its value's after them). A
    /// scratch array outgrown by the value is replaced, not changed, so the name's span stays good.
    /// </summary>
    private ReadOnlySpan<byte> ReadString(scoped ref ReadOnlySpan<byte> block, int scratchOffset)
    {
        if (block.IsEmpty)
            throw new HPackException("a header block ends where a string literal should start");
        var huffman = (block[0] & 0x80) != 0;
        var length = ReadInteger(ref block, 7);
        if (length > block.Length)
            throw new HPackException($"a string literal of {length} bytes runs past the header block's end ({block.Length} bytes left)");
        var raw = block[..length];
        block = block[length..];
        if (!huffman)
            return raw;
        var needed = scratchOffset + Huffman.MaxDecodedLength(length);
        if (_huffman.Length < needed)
            Array.Resize(ref _huffman, Math.Max(needed, 2 * _huffman.Length));
        var written = Huffman.Decode(raw, _huffman.AsSpan(scratchOffset));
        return _huffman.AsSpan(scratchOffset, written);
    }

    /// <summary>An integer with an N-bit prefix (§5.1), at most 2^31 − 1.</summary>
    internal static int ReadInteger(ref ReadOnlySpan<byte> block, int prefixBits)
    {
        var max = (1 << prefixBits) - 1;
        var value = block[0] & max;
        var at = 1;
        if (value == max)
        {
            var shift = 0;
            while (true)
            {
                if (at >= block.Length)
                    throw new HPackException("a header block ends inside an integer");
                var b = block[at++];
                if (shift > 28 || (shift == 28 && b > 0x07))
                    throw new HPackException("an integer in a header block exceeds 2^31 - 1");
                value += (b & 0x7F) << shift;
                if (value < 0)
                    throw new HPackException("an integer in a header block exceeds 2^31 - 1");
                shift += 7;
                if ((b & 0x80) == 0)
                    break;
            }
        }
        block = block[at..];
        return value;
    }
}
