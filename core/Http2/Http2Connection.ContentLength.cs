namespace FedMesh.Core.Http2;

/// <summary>
/// A received message's content-length against its data (RFC 9113 §8.1.1): more data than it declares, at any point,
/// or less when the stream ends, makes the request or response malformed, a stream error PROTOCOL_ERROR. A response
/// whose data its content-length does not size is not checked: to a HEAD request (no content), to CONNECT (a tunnel),
/// or 304 (the length of what was not sent again). This side knows a request's method only when it sent the request
/// (a client stream, <see cref="Http2Stream.ResponseUnsized"/>).
/// </summary>
internal sealed partial class Http2Connection
{
    /// <summary>
    /// The read loop's, for a request or final response head from the peer: its content-length (a malformed one is a
    /// stream error), from now on checked against its data.
    /// </summary>
    private void TakeContentLength(Http2Stream stream, bool endStream)
    {
        var length = ContentLength(_received, out var problem);
        if (problem is not null)
            throw new Http2StreamException(stream.Id, Http2ErrorCode.ProtocolError, $"{stream}'s header block is malformed: {problem}");
        if (length < 0 || (!_isServer && (stream.ResponseUnsized || _received[":status"u8].SequenceEqual("304"u8))))
            return;
        stream.ContentLength = length;
        if (endStream && ContentLengthBroken(stream, 0, endStream: true) is { } missing)
            throw new Http2StreamException(stream.Id, Http2ErrorCode.ProtocolError, $"{stream}'s {(_isServer ? "request" : "response")} head: {missing}");
    }

    /// <summary>
    /// Counts <paramref name="length"/> octets of the stream's data against its content-length: why they break it, or
    /// null. Only for a stream whose content-length is checked (<see cref="Http2Stream.ContentLength"/> 0 or more).
    /// </summary>
    private static string? ContentLengthBroken(Http2Stream stream, long length, bool endStream)
    {
        stream.DataReceived += length;
        if (stream.DataReceived > stream.ContentLength)
            return $"the data comes to {stream.DataReceived} octets, past the content-length of {stream.ContentLength} (RFC 9113 §8.1.1)";
        if (endStream && stream.DataReceived < stream.ContentLength)
            return $"the stream ends after {stream.DataReceived} octets of data, short of the content-length of {stream.ContentLength} (RFC 9113 §8.1.1)";
        return null;
    }

    /// <summary>
    /// The value of a header block's content-length fields, -1 without one; <paramref name="problem"/> says why it is
    /// malformed: a value that is not a non-negative integer, or differing values. The same value repeated, in several
    /// fields or a comma-separated list, is that value (RFC 9110 §8.6).
    /// </summary>
    internal static long ContentLength(Http2HeaderList fields, out string? problem)
    {
        problem = null;
        long length = -1;
        for (var i = 0; i < fields.Count; i++)
        {
            if (!fields.Name(i).SequenceEqual("content-length"u8))
                continue;
            var rest = fields.Value(i);
            while (true)
            {
                var comma = rest.IndexOf((byte)',');
                var item = (comma < 0 ? rest : rest[..comma]).Trim(" \t"u8);
                if (!TryParseLength(item, out var value))
                {
                    problem = $"content-length \"{Shown(fields.Value(i))}\" is not a non-negative integer";
                    return -1;
                }
                if (length >= 0 && value != length)
                {
                    problem = $"content-length has differing values, {length} and {value}";
                    return -1;
                }
                length = value;
                if (comma < 0)
                    break;
                rest = rest[(comma + 1)..];
            }
        }
        return length;
    }

    /// <summary>One or more decimal digits and nothing else, within a long.</summary>
    private static bool TryParseLength(ReadOnlySpan<byte> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty)
            return false;
        foreach (var b in digits)
        {
            var digit = b - (byte)'0';
            if (digit is < 0 or > 9 || value > (long.MaxValue - digit) / 10)
                return false;
            value = value * 10 + digit;
        }
        return true;
    }

    /// <summary>A field value for an error message: its start only, when it is long.</summary>
    private static string Shown(ReadOnlySpan<byte> value) => value.Length <= 40 ? Text(value) : Text(value[..40]) + "…";
}
