using System.Runtime.InteropServices;

namespace FedMesh.Core.Transport;

/// <summary>
/// An event loop for the sockets of the listeners' connections and the pooled upstream connections (Linux on x86-64;
/// elsewhere <see cref="LoopStream"/> falls back to .NET's own socket streams): a thread
/// waiting in an edge-triggered epoll, as nginx waits, instead of .NET's socket engine. A <see cref="LoopStream"/>
/// remembers what each event said (readable, writable), so a read that follows a short read waits for the next event
/// instead of first trying a receive that finds nothing, as .NET's engine does; a waiting read or write is completed
/// on the loop's thread.
/// <para>
/// As .NET's engine: where socket completions run inline (<see cref="Common.DataPlaneKestrel.InlineCompletionsVariable"/>,
/// the data plane's setting), a continuation runs on the loop's thread and there is a loop per processor the process
/// may use; otherwise continuations go to the thread pool and one loop serves up to 30 processors.
/// </para>
/// </summary>
internal sealed unsafe class SocketLoop
{
    private const int MaxEvents = 256;

    /// <summary>Whether continuations run on the loop's thread.</summary>
    public static readonly bool Inline = Environment.GetEnvironmentVariable(Common.DataPlaneKestrel.InlineCompletionsVariable) == "1";

    // Linux on x86-64 only: the kernel's epoll_event is packed there (see Libc.EpollEvent), and the constants are its.
    private static readonly Lazy<SocketLoop[]> _loops = new(() => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64
        ? [.. Enumerable.Range(0, Inline ? Environment.ProcessorCount : (Environment.ProcessorCount + 29) / 30).Select(i => new SocketLoop(i))]
        : []);

    private static int _turn;

    private readonly int _epoll;
    private readonly object _gate = new();
    private LoopStream?[] _streams = new LoopStream?[256];
    private uint[] _generations = new uint[256];
    private readonly Stack<int> _free = new();
    private int _next;

    /// <summary>Whether there are loops (Linux on x86-64); elsewhere the streams are .NET's own.</summary>
    public static bool Available => _loops.Value.Length > 0;

    /// <summary>The loop for a new socket, in turn; null where there is no epoll.</summary>
    public static SocketLoop? Next()
    {
        var loops = _loops.Value;
        return loops.Length switch
        {
            0 => null,
            1 => loops[0],
            _ => loops[(int)((uint)Interlocked.Increment(ref _turn) % (uint)loops.Length)],
        };
    }

    private SocketLoop(int index)
    {
        _epoll = Libc.EpollCreate1(Libc.EpollCloexec);
        if (_epoll < 0)
            throw new IOException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
        new Thread(Run) { IsBackground = true, Name = $"FedMesh socket loop {index}" }.Start();
    }

    /// <summary>Adds <paramref name="stream"/>'s socket to the loop; its events go to it until <see cref="Remove"/>.</summary>
    public void Add(LoopStream stream, int fd)
    {
        int slot;
        uint generation;
        lock (_gate)
        {
            if (!_free.TryPop(out slot))
            {
                slot = _next++;
                if (slot == _streams.Length)
                {
                    Array.Resize(ref _generations, slot * 2);
                    var grown = new LoopStream?[slot * 2];
                    _streams.CopyTo(grown, 0);
                    Volatile.Write(ref _streams, grown);
                }
            }
            generation = ++_generations[slot];
            stream.Slot = slot;
            stream.Generation = generation;
            Volatile.Write(ref _streams[slot], stream);
        }
        var ev = new Libc.EpollEvent
        {
            Events = Libc.EpollIn | Libc.EpollOut | Libc.EpollRdHup | Libc.EpollEdgeTriggered,
            Data = (ulong)generation << 32 | (uint)slot,
        };
        if (Libc.EpollCtl(_epoll, Libc.EpollCtlAdd, fd, &ev) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            Release(stream);
            throw new IOException($"epoll_ctl(ADD) failed: errno {errno}");
        }
    }

    /// <summary>Takes the socket out of the loop (while its descriptor is still open) and frees the stream's slot.</summary>
    public void Remove(LoopStream stream, int fd)
    {
        Libc.EpollCtl(_epoll, Libc.EpollCtlDel, fd, null);
        Release(stream);
    }

    private void Release(LoopStream stream)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_streams[stream.Slot], stream))
            {
                _streams[stream.Slot] = null;
                // An event already taken for the old stream carries the old generation, and is dropped.
                _free.Push(stream.Slot);
            }
        }
    }

    private void Run()
    {
        var events = stackalloc Libc.EpollEvent[MaxEvents];
        while (true)
        {
            var count = Libc.EpollWait(_epoll, events, MaxEvents, -1);
            if (count < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.EIntr)
                    continue;
                Environment.FailFast($"FedMesh socket loop: epoll_wait failed, errno {errno}");
            }
            var streams = Volatile.Read(ref _streams);
            for (var i = 0; i < count; i++)
            {
                var data = events[i].Data;
                var slot = (int)(uint)data;
                var stream = (uint)slot < (uint)streams.Length ? Volatile.Read(ref streams[slot]) : null;
                if (stream is not null && stream.Generation == (uint)(data >> 32))
                    stream.OnEvents(events[i].Events);
            }
        }
    }
}

/// <summary>The Linux (x86-64) calls of <see cref="SocketLoop"/> and <see cref="LoopStream"/>, and their constants.</summary>
internal static unsafe class Libc
{
    public const uint EpollIn = 0x001;
    public const uint EpollOut = 0x004;
    public const uint EpollErr = 0x008;
    public const uint EpollHup = 0x010;
    public const uint EpollRdHup = 0x2000;
    public const uint EpollEdgeTriggered = 1u << 31;
    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const int EpollCloexec = 0x80000;
    public const int EIntr = 4;
    public const int EAgain = 11;
    public const int EInProgress = 115;
    public const int MsgNoSignal = 0x4000;
    public const int MsgPeek = 0x2;
    public const int SolSocket = 1;
    public const int SoError = 4;

    /// <summary>The kernel's <c>struct epoll_event</c> as x86-64 lays it out: packed, 12 bytes (other architectures align it to 16).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [DllImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static extern int EpollCreate1(int flags);

    [DllImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    public static extern int EpollCtl(int epoll, int op, int fd, EpollEvent* ev);

    [DllImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static extern int EpollWait(int epoll, EpollEvent* events, int max, int timeoutMs);

    [DllImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static extern nint Recv(int fd, byte* buffer, nint length, int flags);

    [DllImport("libc", EntryPoint = "send", SetLastError = true)]
    public static extern nint Send(int fd, byte* buffer, nint length, int flags);

    [DllImport("libc", EntryPoint = "connect", SetLastError = true)]
    public static extern int Connect(int fd, byte* address, int length);

    [DllImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    public static extern int GetSockOpt(int fd, int level, int name, int* value, int* length);
}
