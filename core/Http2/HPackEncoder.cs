using System.Buffers;

namespace FedMesh.Core.Http2;

/// <summary>
/// Encodes the header blocks this side sends on a connection (RFC 7541 §6). A field in the static table or in the
/// dynamic table is sent as its index; any other is a literal that names its field by index where it can, and is
/// added to the dynamic table unless it is never to be indexed (as received, or a credential) or a value that changes
/// with every request (<see cref="Indexes"/>). A string goes Huffman-encoded when that is shorter.
/// </summary>
internal sealed class HPackEncoder
{
    private readonly HPackDynamicTable _table;
    private readonly int _maxTableSize;
    private int _pendingSizeUpdate = -1; // the size the next block announces, if it changed since the last block
    private int _smallestSince = -1; // the smallest size it had since the last block (announced first when below)

    /// <param name="maxTableSize">The most this side will use of the table the peer allows (its SETTINGS_HEADER_TABLE_SIZE).</param>
    public HPackEncoder(int maxTableSize = 4096)
    {
        _maxTableSize = maxTableSize;
        _table = new HPackDynamicTable(Math.Min(maxTableSize, 4096)); // the peer's table starts at the default 4,096
    }

    /// <summary>The dynamic table's size now (§4.1).</summary>
    public int TableSize => _table.Size;

    /// <summary>
    /// The peer's SETTINGS_HEADER_TABLE_SIZE: the table is resized to it (at most this side's own limit), and the next
    /// block starts by saying so (§4.2). Changed more than once before that block, the block says the smallest size
    /// first when it was below the last (the entries the smaller table evicted are gone for the peer too), then the last.
    /// </summary>
    public void SetPeerTableSize(int size)
    {
        var next = Math.Min(size, _maxTableSize);
        if (next == _table.MaxSize && _pendingSizeUpdate < 0)
            return;
        _table.Resize(next);
        _pendingSizeUpdate = next;
        _smallestSince = _smallestSince < 0 ? next : Math.Min(_smallestSince, next);
    }

    /// <summary>Starts a header block: the dynamic table size updates go first when due (at most two, §4.2).</summary>
    public void StartBlock(IBufferWriter<byte> output)
    {
        if (_pendingSizeUpdate < 0)
            return;
        var span = output.GetSpan(12);
        var written = _smallestSince < _pendingSizeUpdate ? WriteInteger(span, _smallestSince, 5, 0x20) : 0;
        written += WriteInteger(span[written..], _pendingSizeUpdate, 5, 0x20);
        output.Advance(written);
        _pendingSizeUpdate = _smallestSince = -1;
    }

    /// <summary>Encodes one field of the block begun with <see cref="StartBlock"/>.</summary>
    /// <param name="neverIndexed">Received as never indexed, or a secret: sent as never indexed (§6.2.3).</param>
    public void Encode(IBufferWriter<byte> output, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed = false)
    {
        var index = HPackStaticTable.Find(name, value, out var exact);
        if (!exact)
        {
            var dynamic = FindDynamic(name, value, out var dynamicExact);
            if (dynamicExact)
            {
                (index, exact) = (dynamic, true);
            }
            else if (index == 0)
                index = dynamic;
        }
        if (exact && !neverIndexed)
        {
            var indexed = output.GetSpan(6);
            output.Advance(WriteInteger(indexed, index, 7, 0x80));
            return;
        }
        neverIndexed |= IsSecret(name);
        var indexing = !neverIndexed && Indexes(name) && name.Length + value.Length + HPackDynamicTable.EntryOverhead <= _table.MaxSize / 2;
        var span = output.GetSpan(6 + 6 + name.Length + 6 + value.Length);
        var written = indexing ? WriteInteger(span, index, 6, 0x40) : WriteInteger(span, index, 4, neverIndexed ? (byte)0x10 : (byte)0);
        if (index == 0)
            written += WriteString(span[written..], name);
        written += WriteString(span[written..], value);
        output.Advance(written);
        if (indexing)
            _table.Insert(name, value);
    }

    /// <summary>
    /// Whether a field is worth a place in the dynamic table: not the ones whose value changes with nearly every
    /// message (a path, a length, a date, trace and request ids), which would only push the repeated ones out.
    /// </summary>
    private static bool Indexes(ReadOnlySpan<byte> name) =>
        !(name.SequenceEqual(":path"u8) || name.SequenceEqual("content-length"u8) || name.SequenceEqual("date"u8)
          || name.SequenceEqual("etag"u8) || name.SequenceEqual("age"u8) || name.SequenceEqual("location"u8)
          || name.SequenceEqual("traceparent"u8) || name.SequenceEqual("tracestate"u8) || name.SequenceEqual("x-request-id"u8)
          || name.SequenceEqual("if-none-match"u8) || name.SequenceEqual("if-modified-since"u8) || name.SequenceEqual("set-cookie"u8));

    /// <summary>Credentials are never indexed (§7.1.3): a table entry could be probed for them.</summary>
    private static bool IsSecret(ReadOnlySpan<byte> name) =>
        name.SequenceEqual("authorization"u8) || name.SequenceEqual("proxy-authorization"u8);

    /// <summary>The HPACK index of an entry in the dynamic table with this name and value, else of one with this name, else 0.</summary>
    private int FindDynamic(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, out bool exact)
    {
        exact = false;
        var named = 0;
        for (var i = 0; i < _table.Count; i++)
        {
            var entry = _table[i];
            if (entry.NameLength != name.Length || !entry.Name.SequenceEqual(name))
                continue;
            if (entry.Value.SequenceEqual(value))
            {
                exact = true;
                return HPackStaticTable.Count + 1 + i;
            }
            if (named == 0)
                named = HPackStaticTable.Count + 1 + i;
        }
        return named;
    }

    private static int WriteString(Span<byte> destination, ReadOnlySpan<byte> value)
    {
        var huffman = Huffman.EncodedLength(value);
        if (huffman < value.Length)
        {
            var written = WriteInteger(destination, huffman, 7, 0x80);
            return written + Huffman.Encode(value, destination[written..]);
        }
        var header = WriteInteger(destination, value.Length, 7, 0);
        value.CopyTo(destination[header..]);
        return header + value.Length;
    }

    /// <summary>Writes <paramref name="value"/> with an N-bit prefix (§5.1) after the pattern bits <paramref name="flags"/>.</summary>
    internal static int WriteInteger(Span<byte> destination, int value, int prefixBits, byte flags)
    {
        var max = (1 << prefixBits) - 1;
        if (value < max)
        {
            destination[0] = (byte)(flags | value);
            return 1;
        }
        destination[0] = (byte)(flags | max);
        value -= max;
        var written = 1;
        while (value >= 0x80)
        {
            destination[written++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[written++] = (byte)value;
        return written;
    }
}
