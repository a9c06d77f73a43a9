using System.IO.Pipelines;
using FedMesh.Core.Forwarding;

namespace FedMesh.Core.Tests.Forwarding;

/// <summary>How the body copier writes into the client's writer.</summary>
public sealed class Http11BodyTests
{
    [Fact]
    public void Write_WriterOfferingNothingWhenAskedWithoutASize_GetsEveryByteInPieces()
    {
        // As Kestrel's response writer did (seen as a flaky 502 "Parameter 'writer'" on the direct way): small blocks,
        // and an empty span when asked with no size hint once the current block is full.
        var writer = new SmallBlockWriter(blockSize: 10);
        var data = Enumerable.Range(0, 95).Select(i => (byte)i).ToArray();

        Http11Body.Write(writer, data);
        writer.Complete();

        Assert.Equal(data, writer.Written.ToArray());
    }

    /// <summary>A writer with fixed-size blocks that offers nothing for a size hint of 0 when its block is full.</summary>
    private sealed class SmallBlockWriter(int blockSize) : PipeWriter
    {
        private byte[] _block = new byte[blockSize];
        private int _used;

        public MemoryStream Written { get; } = new();

        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public override Memory<byte> GetMemory(int sizeHint = 0)
        {
            if (sizeHint > 0 && _used == _block.Length)
                Commit();
            return _block.AsMemory(_used);
        }

        public override void Advance(int bytes) => _used += bytes;

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Commit();
            return ValueTask.FromResult(new FlushResult(isCanceled: false, isCompleted: false));
        }

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null) => Commit();

        private void Commit()
        {
            Written.Write(_block, 0, _used);
            _block = new byte[_block.Length];
            _used = 0;
        }
    }
}
