namespace FedMesh.Core.Http2;

/// <summary>What makes a received header block malformed (RFC 9113 §8.2, §8.3).</summary>
internal sealed partial class Http2Connection
{
    private static readonly byte[][] ConnectionSpecific =
        ["connection"u8.ToArray(), "keep-alive"u8.ToArray(), "proxy-connection"u8.ToArray(), "transfer-encoding"u8.ToArray(), "upgrade"u8.ToArray()];

    /// <summary>What makes a header block malformed (RFC 9113 §8.2, §8.3), or null.</summary>
    private static string? Malformed(Http2HeaderList fields, bool request, bool trailers)
    {
        var regular = false;
        var pseudo = 0; // bits: :method 1, :scheme 2, :path 4, :authority 8, :status 16
        var connect = false;
        for (var i = 0; i < fields.Count; i++)
        {
            var name = fields.Name(i);
            if (name.IsEmpty)
                return "a field has an empty name";
            if (name[0] == (byte)':')
            {
                if (regular || trailers)
                    return $"pseudo-header {Text(name)} {(trailers ? "in trailers" : "after a regular field")}";
                var bit = request
                    ? name.SequenceEqual(":method"u8) ? 1 : name.SequenceEqual(":scheme"u8) ? 2 : name.SequenceEqual(":path"u8) ? 4 : name.SequenceEqual(":authority"u8) ? 8 : 0
                    : name.SequenceEqual(":status"u8) ? 16 : 0;
                if (bit == 0)
                    return $"pseudo-header {Text(name)} does not belong in a {(request ? "request" : "response")}";
                if ((pseudo & bit) != 0)
                    return $"pseudo-header {Text(name)} appears twice";
                pseudo |= bit;
                if (bit == 1)
                    connect = fields.Value(i).SequenceEqual("CONNECT"u8);
                continue;
            }
            regular = true;
            foreach (var b in name)
            {
                if (b is >= (byte)'A' and <= (byte)'Z')
                    return $"field name {Text(name)} has upper case";
            }
            foreach (var forbidden in ConnectionSpecific)
            {
                if (name.SequenceEqual(forbidden))
                    return $"connection-specific field {Text(name)}";
            }
            if (name.SequenceEqual("te"u8) && !fields.Value(i).SequenceEqual("trailers"u8))
                return "te is other than \"trailers\"";
        }
        if (trailers)
            return null;
        if (!request)
            return (pseudo & 16) == 0 ? "a response without :status" : null;
        if ((pseudo & 1) == 0)
            return "a request without :method";
        return connect || (pseudo & 6) == 6 ? null : "a request without :scheme or :path";
    }

    private static bool IsInformational(Http2HeaderList fields)
    {
        var status = fields[":status"u8];
        return status.Length == 3 && status[0] == (byte)'1';
    }

    private static string Text(ReadOnlySpan<byte> bytes) => System.Text.Encoding.ASCII.GetString(bytes);
}
