using System.Text;

namespace FedMesh.Core.Http2;

public abstract partial class Http2Relay
{
    // A relayed stream's own answers, and the header lists it copies or adds to.
    private sealed partial class RelayedStream
    {
        /// <summary>An answer of the relay's own: head and body, then (if the caller still sends) a reset without error.</summary>
        private async Task AnswerAsync(int status, string? errorCode, byte[] body, bool requestEnded)
        {
            try
            {
                var fields = new Http2HeaderList();
                fields.Add(":status"u8, Encoding.ASCII.GetBytes(status.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                fields.Add("content-type"u8, "text/plain; charset=utf-8"u8);
                fields.Add("content-length"u8, Encoding.ASCII.GetBytes(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                if (errorCode is not null)
                    fields.Add("x-fedmesh-error"u8, Encoding.ASCII.GetBytes(errorCode));
                await _caller.SendHeadersAsync(fields, endStream: body.Length == 0).ConfigureAwait(false);
                if (body.Length > 0)
                    await _caller.SendDataAsync(body, endStream: true).ConfigureAwait(false);
                if (!requestEnded)
                    _caller.Reset(Http2ErrorCode.NoError);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or Http2Exception or OperationCanceledException)
            {
                // The caller's stream or connection ended first: nobody is left to answer.
            }
        }

        /// <summary>A copy in a rented list (<see cref="Http2HeaderList.Rent"/>).</summary>
        private static Http2HeaderList Copy(Http2HeaderList fields)
        {
            var copy = Http2HeaderList.Rent();
            for (var i = 0; i < fields.Count; i++)
                copy.Add(fields.Name(i), fields.Value(i), fields.NeverIndexed(i));
            return copy;
        }

        /// <summary>
        /// Adds a field given as an HTTP/1.1 line ("name: value\r\n"), its name in lower case: read in place, as it goes
        /// on every response that carries it.
        /// </summary>
        private static void AddField(Http2HeaderList fields, byte[] line)
        {
            var text = line.AsSpan().TrimEnd("\r\n"u8);
            var colon = text.IndexOf((byte)':');
            if (colon <= 0)
                return;
            scoped ReadOnlySpan<byte> name = text[..colon].Trim(" \t"u8);
            Span<byte> lower = stackalloc byte[Math.Min(name.Length, 256)];
            if (name.Length <= lower.Length && Ascii.ToLower(name, lower, out var written) == System.Buffers.OperationStatus.Done)
                name = lower[..written];
            fields.Add(name, text[(colon + 1)..].Trim(" \t"u8));
        }
    }
}
