namespace FedMesh.Core.Http2;

/// <summary>
/// One side's HPACK dynamic table (RFC 7541 §2.3.2, §4): entries newest first, each counted as its name and value
/// plus 32 bytes; inserting evicts the oldest until the new entry fits, and an entry larger than the whole table
/// empties it and is not kept. The encoder and the decoder of a connection each keep one.
/// </summary>
internal sealed class HPackDynamicTable(int maxSize)
{
    /// <summary>The bytes an entry counts beyond its name and value (§4.1).</summary>
    public const int EntryOverhead = 32;

    private Entry[] _ring = new Entry[8];
    private int _newest = -1; // index in _ring of the newest entry
    private int _count;

    /// <summary>The entries' size by §4.1.</summary>
    public int Size { get; private set; }

    public int MaxSize { get; private set; } = maxSize;

    public int Count => _count;

    /// <summary>The entry at <paramref name="index"/>, 0 the newest.</summary>
    public Entry this[int index]
    {
        get
        {
            var at = _newest - index;
            return _ring[at < 0 ? at + _ring.Length : at];
        }
    }

    public void Insert(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        var size = name.Length + value.Length + EntryOverhead;
        EvictTo(MaxSize - size);
        if (size > MaxSize)
            return; // §4.4: too large for the table, which is now empty
        var bytes = new byte[name.Length + value.Length];
        name.CopyTo(bytes);
        value.CopyTo(bytes.AsSpan(name.Length));
        if (_count == _ring.Length)
            Grow();
        _newest = (_newest + 1) % _ring.Length;
        _ring[_newest] = new Entry(bytes, name.Length);
        _count++;
        Size += size;
    }

    /// <summary>A new maximum size (a dynamic table size update, or a new setting): evicts what no longer fits.</summary>
    public void Resize(int maxSize)
    {
        MaxSize = maxSize;
        EvictTo(maxSize);
    }

    private void EvictTo(int size)
    {
        while (_count > 0 && Size > size)
        {
            var oldest = this[_count - 1];
            Size -= oldest.Bytes.Length + EntryOverhead;
            var at = _newest - (_count - 1);
            _ring[at < 0 ? at + _ring.Length : at] = default;
            _count--;
        }
    }

    private void Grow()
    {
        var ring = new Entry[_ring.Length * 2];
        for (var i = 0; i < _count; i++)
            ring[_count - 1 - i] = this[i];
        _ring = ring;
        _newest = _count - 1;
    }

    /// <summary>One entry: its name and value in one array.</summary>
    public readonly record struct Entry(byte[] Bytes, int NameLength)
    {
        public ReadOnlySpan<byte> Name => Bytes.AsSpan(0, NameLength);

        public ReadOnlySpan<byte> Value => Bytes.AsSpan(NameLength);
    }
}
