using FedMesh.Core.Transport;

namespace FedMesh.Core.Tests.Transport;

public sealed class BlockPoolTests
{
    [Fact]
    public void Rent_HandsOutTheBlockReturnedLast_FirstOfAll()
    {
        using var pool = new BlockPool();
        var a = pool.Rent();
        var b = pool.Rent();
        var aMemory = a.Memory;
        var bMemory = b.Memory;
        Assert.Equal(BlockPool.BlockSize, aMemory.Length);

        a.Dispose();
        b.Dispose();

        using var next = pool.Rent();
        Assert.True(next.Memory.Span == bMemory.Span, "the block returned last comes back first");
        using var after = pool.Rent();
        Assert.True(after.Memory.Span == aMemory.Span);
        Assert.Equal(0, pool.FreeCount);
    }

    [Fact]
    public void Dispose_Twice_ReturnsTheBlockOnce()
    {
        using var pool = new BlockPool();
        var block = pool.Rent();
        block.Dispose();
        block.Dispose();

        Assert.Equal(1, pool.FreeCount);
        using var first = pool.Rent();
        using var second = pool.Rent();
        Assert.False(first.Memory.Span == second.Memory.Span, "one block given to two renters");
    }

    [Fact]
    public void FreeBlocks_AreKeptUpToMaxFree_AndNoneAfterThePoolIsDisposed()
    {
        var pool = new BlockPool();
        var rented = Enumerable.Range(0, BlockPool.MaxFree + 10).Select(_ => pool.Rent()).ToList();
        foreach (var r in rented) r.Dispose();
        Assert.Equal(BlockPool.MaxFree, pool.FreeCount);

        var late = pool.Rent();
        pool.Dispose();
        late.Dispose();
        Assert.Equal(0, pool.FreeCount);
    }

    [Fact]
    public void Rent_LargerThanABlock_IsRefused()
    {
        using var pool = new BlockPool();
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(BlockPool.BlockSize + 1));
        using var any = pool.Rent();
        Assert.Equal(BlockPool.BlockSize, any.Memory.Length);
    }
}
