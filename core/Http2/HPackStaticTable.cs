using System.Text;

namespace FedMesh.Core.Http2;

/// <summary>HPACK's static table (RFC 7541 Appendix A): indices 1–61, and a lookup by name for the encoder.</summary>
internal static class HPackStaticTable
{
    public const int Count = 61;

    private static readonly (byte[] Name, byte[] Value)[] Entries = Build(
        ":authority", "", ":method", "GET", ":method", "POST", ":path", "/", ":path", "/index.html", ":scheme", "http",
        ":scheme", "https", ":status", "200", ":status", "204", ":status", "206", ":status", "304", ":status", "400",
        ":status", "404", ":status", "500", "accept-charset", "", "accept-encoding", "gzip, deflate", "accept-language", "",
        "accept-ranges", "", "accept", "", "access-control-allow-origin", "", "age", "", "allow", "", "authorization", "",
        "cache-control", "", "content-disposition", "", "content-encoding", "", "content-language", "", "content-length", "",
        "content-location", "", "content-range", "", "content-type", "", "cookie", "", "date", "", "etag", "", "expect", "",
        "expires", "", "from", "", "host", "", "if-match", "", "if-modified-since", "", "if-none-match", "", "if-range", "",
        "if-unmodified-since", "", "last-modified", "", "link", "", "location", "", "max-forwards", "", "proxy-authenticate", "",
        "proxy-authorization", "", "range", "", "referer", "", "refresh", "", "retry-after", "", "server", "", "set-cookie", "",
        "strict-transport-security", "", "transfer-encoding", "", "user-agent", "", "vary", "", "via", "", "www-authenticate", "");

    /// <summary>Per name key (length and first and last byte): the first index with that key; names sharing a key follow in <see cref="NextSameKey"/>.</summary>
    private static readonly Dictionary<int, int> FirstByKey = [];
    private static readonly int[] NextSameKey = new int[Count + 1];

    static HPackStaticTable()
    {
        for (var index = Count; index >= 1; index--)
        {
            var key = Key(Entries[index - 1].Name);
            NextSameKey[index] = FirstByKey.GetValueOrDefault(key);
            FirstByKey[key] = index;
        }
    }

    public static ReadOnlySpan<byte> Name(int index) => Entries[index - 1].Name;

    public static ReadOnlySpan<byte> Value(int index) => Entries[index - 1].Value;

    /// <summary>
    /// The index of the entry with this name and value when there is one (<paramref name="exact"/> true), else of the
    /// first entry with this name, else 0.
    /// </summary>
    public static int Find(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, out bool exact)
    {
        exact = false;
        if (name.Length == 0 || !FirstByKey.TryGetValue(Key(name), out var index))
            return 0;
        var named = 0;
        for (; index != 0; index = NextSameKey[index])
        {
            var (entryName, entryValue) = Entries[index - 1];
            if (!name.SequenceEqual(entryName))
                continue;
            if (value.SequenceEqual(entryValue))
            {
                exact = true;
                return index;
            }
            if (named == 0)
                named = index;
        }
        return named;
    }

    private static int Key(ReadOnlySpan<byte> name) => (name.Length << 16) | (name[0] << 8) | name[^1];

    private static (byte[], byte[])[] Build(params string[] pairs)
    {
        var entries = new (byte[], byte[])[pairs.Length / 2];
        for (var i = 0; i < entries.Length; i++)
            entries[i] = (Encoding.ASCII.GetBytes(pairs[2 * i]), Encoding.ASCII.GetBytes(pairs[2 * i + 1]));
        return entries;
    }
}
