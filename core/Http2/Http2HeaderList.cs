namespace FedMesh.Core.Http2;

/// <summary>
/// The fields of one header block, as received (decoded into it) or to be sent (encoded from it): names and values
/// kept in one growing byte array, so a list reused for block after block stops allocating. Names are lower case on
/// the wire in HTTP/2; the list keeps what it is given.
/// </summary>
internal sealed class Http2HeaderList : IHeaderSink
{
    /// <summary>Lists kept per thread for <see cref="Rent"/>; one that grew past <see cref="KeptBytes"/> is let go.</summary>
    private const int KeptPerThread = 32, KeptBytes = 8192;

    [ThreadStatic]
    private static Stack<Http2HeaderList>? t_kept;

    private byte[] _bytes = new byte[512];
    private Field[] _fields = new Field[16];
    private int _used;

    public int Count { get; private set; }

    public ReadOnlySpan<byte> Name(int index) => _bytes.AsSpan(_fields[index].Start, _fields[index].NameLength);

    public ReadOnlySpan<byte> Value(int index)
    {
        var field = _fields[index];
        return _bytes.AsSpan(field.Start + field.NameLength, field.ValueLength);
    }

    public bool NeverIndexed(int index) => _fields[index].NeverIndexed;

    /// <summary>The value of the first field named <paramref name="name"/>; empty when there is none (see <see cref="IndexOf"/>).</summary>
    public ReadOnlySpan<byte> this[ReadOnlySpan<byte> name] => IndexOf(name) is var i and >= 0 ? Value(i) : default;

    public int IndexOf(ReadOnlySpan<byte> name)
    {
        for (var i = 0; i < Count; i++)
        {
            if (_fields[i].NameLength == name.Length && Name(i).SequenceEqual(name))
                return i;
        }
        return -1;
    }

    public void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed = false)
    {
        var size = name.Length + value.Length;
        Reserve(size);
        name.CopyTo(_bytes.AsSpan(_used));
        value.CopyTo(_bytes.AsSpan(_used + name.Length));
        _fields[Count++] = new Field(_used, name.Length, value.Length, neverIndexed);
        _used += size;
    }

    /// <summary>Adds a field whose value is ASCII text, encoded straight into the list.</summary>
    public void Add(ReadOnlySpan<byte> name, string value)
    {
        var size = name.Length + System.Text.Encoding.ASCII.GetByteCount(value);
        Reserve(size);
        name.CopyTo(_bytes.AsSpan(_used));
        System.Text.Encoding.ASCII.GetBytes(value, _bytes.AsSpan(_used + name.Length));
        _fields[Count++] = new Field(_used, name.Length, size - name.Length, false);
        _used += size;
    }

    /// <summary>
    /// An empty list: one given back on this thread (<see cref="Return"/>) or a new one. A relayed stream's upstream
    /// head is built in one and given back once sent, so a stream costs no list of its own.
    /// </summary>
    public static Http2HeaderList Rent() => t_kept is { Count: > 0 } kept ? kept.Pop() : new Http2HeaderList();

    /// <summary>Gives a list from <see cref="Rent"/> back; whoever gives it back must not use it again.</summary>
    public static void Return(Http2HeaderList list)
    {
        if (list._bytes.Length > KeptBytes)
            return;
        var kept = t_kept ??= new Stack<Http2HeaderList>(KeptPerThread);
        if (kept.Count >= KeptPerThread)
            return;
        list.Clear();
        kept.Push(list);
    }

    /// <summary>Room for one more field of <paramref name="size"/> octets.</summary>
    private void Reserve(int size)
    {
        if (_used + size > _bytes.Length)
            Array.Resize(ref _bytes, Math.Max(_used + size, 2 * _bytes.Length));
        if (Count == _fields.Length)
            Array.Resize(ref _fields, 2 * _fields.Length);
    }

    public void Clear()
    {
        Count = 0;
        _used = 0;
    }

    void IHeaderSink.OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed) => Add(name, value, neverIndexed);

    public override string ToString()
    {
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < Count; i++)
            text.Append(System.Text.Encoding.ASCII.GetString(Name(i))).Append(": ").Append(System.Text.Encoding.ASCII.GetString(Value(i))).Append('\n');
        return text.ToString();
    }

    private readonly record struct Field(int Start, int NameLength, int ValueLength, bool NeverIndexed);
}
