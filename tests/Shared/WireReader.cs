using System.Text;

namespace FedMesh.Tests.Shared;

/// <summary>An HTTP/1.1 message as it was on the wire: its start line and its fields, in order and as sent.</summary>
internal sealed record WireHead(string StartLine, IReadOnlyList<(string Name, string Value)> Fields, string Text)
{
    public static WireHead Parse(string text)
    {
        var lines = text.Split("\r\n");
        var fields = new List<(string, string)>();
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0)
                throw new FormatException($"not a field line: '{line}' in\n{text}");
            fields.Add((line[..colon], line[(colon + 1)..].Trim(' ', '\t')));
        }
        return new WireHead(lines[0], fields, text);
    }

    /// <summary>Every value of <paramref name="name"/>, one per field line.</summary>
    public string[] Values(string name) =>
        Fields.Where(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(f => f.Value).ToArray();

    public bool Has(string name) => Values(name).Length > 0;
}

/// <summary>Reads HTTP/1.1 messages off a stream byte by byte as they arrived; every read is bounded by the caller's token.</summary>
internal sealed class WireReader(Stream stream)
{
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    /// <summary>The next head (through its empty line); null when the stream ends cleanly before it begins.</summary>
    public async Task<WireHead?> ReadHeadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                var text = Encoding.Latin1.GetString(_buffer, _start, end);
                _start += end + 4;
                return WireHead.Parse(text);
            }
            if (!await FillAsync(cancellationToken))
            {
                if (_start == _end)
                    return null;
                throw new EndOfStreamException("the stream ended in the middle of a head");
            }
        }
    }

    public async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
            if (end >= 0)
            {
                var text = Encoding.Latin1.GetString(_buffer, _start, end);
                _start += end + 2;
                return text;
            }
            if (!await FillAsync(cancellationToken))
                throw new EndOfStreamException("the stream ended in the middle of a line");
        }
    }

    public async Task<byte[]> ReadExactlyAsync(long count, CancellationToken cancellationToken)
    {
        var result = new byte[count];
        var at = 0;
        while (at < count)
        {
            if (_start == _end && !await FillAsync(cancellationToken))
                throw new EndOfStreamException($"the stream ended {at} bytes into a {count}-byte body");
            var take = (int)Math.Min(count - at, _end - _start);
            _buffer.AsSpan(_start, take).CopyTo(result.AsSpan(at));
            _start += take;
            at += take;
        }
        return result;
    }

    public async Task<byte[]> ReadToEndAsync(CancellationToken cancellationToken)
    {
        var all = new MemoryStream();
        do
        {
            all.Write(_buffer, _start, _end - _start);
            _start = _end;
        }
        while (await FillAsync(cancellationToken));
        return all.ToArray();
    }

    /// <summary>A chunked body: the bytes as framed on the wire, the decoded data, and the trailer lines.</summary>
    public async Task<(byte[] Raw, byte[] Data, List<string> Trailers, int Chunks)> ReadChunkedAsync(CancellationToken cancellationToken)
    {
        var raw = new MemoryStream();
        var data = new MemoryStream();
        var chunks = 0;
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken);
            raw.Write(Encoding.Latin1.GetBytes(line + "\r\n"));
            var size = Convert.ToInt64(line.Split(';')[0].Trim(), 16);
            if (size == 0)
                break;
            chunks++;
            var chunk = await ReadExactlyAsync(size, cancellationToken);
            raw.Write(chunk);
            data.Write(chunk);
            var end = await ReadLineAsync(cancellationToken);
            if (end.Length != 0)
                throw new FormatException("a chunk did not end where its size said");
            raw.Write("\r\n"u8);
        }
        var trailers = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken);
            raw.Write(Encoding.Latin1.GetBytes(line + "\r\n"));
            if (line.Length == 0)
                break;
            trailers.Add(line);
        }
        return (raw.ToArray(), data.ToArray(), trailers, chunks);
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
            Array.Resize(ref _buffer, _buffer.Length * 2);
        var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        _end += read;
        return read > 0;
    }
}
