using System.Buffers;

namespace FedMesh.Core.Transport;

/// <summary>
/// The memory pool of a transport's connections (their input pipes and output writers): pinned 4 KiB blocks, handed out
/// last-returned first. A relayed request rents a block when its bytes arrive and gives it back once they are consumed,
/// so with a stack the next request gets the block the previous one just used, still in the core's cache; Kestrel's
/// pool is a queue, which hands out the block returned longest ago, the coldest (its rent and the first touches of the
/// block cost about 2 µs a request at 1,000 rps, bench/README.md). Free blocks beyond <see cref="MaxFree"/> go to the GC.
/// </summary>
internal sealed class BlockPool : MemoryPool<byte>
{
    public const int BlockSize = 4096;

    /// <summary>Free blocks kept (4 MiB); more are left to the GC.</summary>
    public const int MaxFree = 1024;

    private readonly Lock _lock = new();
    private readonly Stack<Block> _free = new();
    private bool _disposed;

    public override int MaxBufferSize => BlockSize;

    /// <summary>Free blocks held now.</summary>
    public int FreeCount
    {
        get { lock (_lock) return _free.Count; }
    }

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        Block? block;
        lock (_lock)
        {
            _free.TryPop(out block);
        }
        block ??= new Block(this);
        block.Rented = true;
        return block;
    }

    private void Return(Block block)
    {
        lock (_lock)
        {
            if (!_disposed && _free.Count < MaxFree)
                _free.Push(block);
        }
    }

    protected override void Dispose(bool disposing)
    {
        lock (_lock)
        {
            _disposed = true;
            _free.Clear();
        }
    }

    private sealed class Block(BlockPool pool) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);

        public bool Rented; // cleared by the first Dispose: a second one must not put the block in the pool twice

        public Memory<byte> Memory => _array;

        public void Dispose()
        {
            if (!Rented)
                return;
            Rented = false;
            pool.Return(this);
        }
    }
}
