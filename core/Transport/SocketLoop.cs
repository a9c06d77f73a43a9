using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FedMesh.Core.Transport;

/// <summary>
/// An event loop for the sockets of the listeners' connections and the pooled upstream connections (Linux on x86-64 and
/// arm64; elsewhere <see cref="LoopStream"/> falls back to .NET's own socket streams): a thread
/// waiting in an edge-triggered epoll, as nginx waits, instead of .NET's socket engine. A <see cref="LoopStream"/>
/// remembers what each event said (readable, writable), so a read that follows a short read waits for the next event
/// instead of first trying a receive that finds nothing, as .NET's engine does; a waiting read or write is completed
/// on the loop's thread.
/// <para>
/// As .NET's engine: where socket completions run inline (<see cref="Common.DataPlaneKestrel.InlineCompletionsVariable"/>,
/// the data plane's setting), a continuation runs on the loop's thread and there is a loop per processor the process
/// may use; otherwise continuations go to the thread pool and one loop serves up to 30 processors.
/// </para>
/// <para>
/// With <see cref="BusyPolling"/> on, a loop that expects an answer polls for it instead of sleeping, for a while.
/// </para>
/// </summary>
internal sealed unsafe class SocketLoop
{
    private const int MaxEvents = 256;

    /// <summary>Whether continuations run on the loop's thread.</summary>
    public static readonly bool Inline = Environment.GetEnvironmentVariable(Common.DataPlaneKestrel.InlineCompletionsVariable) == "1";

    // Linux on the architectures whose epoll_event layout and constants Libc knows (x86-64 and arm64).
    private static readonly Lazy<SocketLoop[]> _loops = new(() => OperatingSystem.IsLinux() && Libc.Supported
        ? [.. Enumerable.Range(0, Inline ? Environment.ProcessorCount : (Environment.ProcessorCount + 29) / 30).Select(i => new SocketLoop(i))]
        : []);

    private static int _turn;

    [ThreadStatic]
    private static SocketLoop? t_dispatching; // the loop whose events this thread is handing out, if it is one's

    /// <summary>Whether the calling thread is a loop's, handing out its events (a continuation run inline).</summary>
    internal static bool OnLoopThread => t_dispatching is not null;

    private readonly List<Action> _atTurnEnd = [];

    private readonly int _epoll;
    private readonly object _gate = new();
    private int _awaiting; // reads of connections this process opened (answers expected) waiting on this loop
    private BusyPollWindow _busyPoll;
    private LoopStream?[] _streams = new LoopStream?[256];
    private uint[] _generations = new uint[256];
    private readonly Stack<int> _free = new();
    private int _next;

    /// <summary>Whether there are loops (Linux on x86-64 or arm64); elsewhere the streams are .NET's own.</summary>
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
        var ev = stackalloc byte[Libc.EpollEventSize];
        Libc.WriteEvent(ev, Libc.EpollIn | Libc.EpollOut | Libc.EpollRdHup | Libc.EpollEdgeTriggered, (ulong)generation << 32 | (uint)slot);
        if (Libc.EpollCtl(_epoll, Libc.EpollCtlAdd, fd, ev) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            Forget(stream);
            throw new IOException($"epoll_ctl(ADD) failed: errno {errno}");
        }
    }

    /// <summary>Takes the socket out of the loop (while its descriptor is still open) and frees the stream's slot.</summary>
    public void Remove(LoopStream stream, int fd)
    {
        Libc.EpollCtl(_epoll, Libc.EpollCtlDel, fd, null);
        Forget(stream);
    }

    /// <summary>
    /// Lets go of <paramref name="stream"/>'s slot, leaving its descriptor in epoll: for a descriptor about to be closed,
    /// which leaves epoll by itself (its events already taken carry the old generation, and are dropped).
    /// </summary>
    public void Forget(LoopStream stream)
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

    /// <summary>Busy-poll windows of every loop so far (<see cref="BusyPolling.Counts"/>).</summary>
    internal static (long Hits, long Misses) BusyPolls()
    {
        long hits = 0, misses = 0;
        if (_loops.IsValueCreated)
        {
            foreach (var loop in _loops.Value)
            {
                hits += Volatile.Read(ref loop._busyPoll.Hits);
                misses += Volatile.Read(ref loop._busyPoll.Misses);
            }
        }
        return (hits, misses);
    }

    /// <summary>
    /// Runs <paramref name="action"/> once this loop has handed out every event of the current wait's batch, when the
    /// calling thread is a loop's handing them out (a continuation run inline); false, and nothing done, otherwise.
    /// What the turn's events make a connection send can so go out in one send after all of them, instead of one each.
    /// The action runs on the loop's thread and must not throw (it would end the loop).
    /// </summary>
    internal static bool AtTurnEnd(Action action)
    {
        var loop = t_dispatching;
        if (loop is null)
            return false;
        loop._atTurnEnd.Add(action);
        return true;
    }

    /// <summary>A read of a connection this process opened starts (+1) or stops (-1) waiting on this loop.</summary>
    internal void Awaiting(int change) => Interlocked.Add(ref _awaiting, change);

    /// <summary>How many answers the loop expects now (reads of connections this process opened that wait).</summary>
    internal int Expected => Volatile.Read(ref _awaiting);

    private void Run()
    {
        var events = stackalloc byte[MaxEvents * Libc.EpollEventSize];
        while (true)
        {
            var window = BusyPolling.Window;
            var timeout = window != 0 && Volatile.Read(ref _awaiting) > 0
                ? _busyPoll.Expecting(window, Stopwatch.GetTimestamp())
                : _busyPoll.Idle();
            var count = Libc.EpollWait(_epoll, events, MaxEvents, timeout);
            if (count == 0 && timeout == 0)
            {
                Libc.SchedYield(); // polling: whatever else is runnable on this core goes first
                continue;
            }
            if (count > 0)
                _busyPoll.Came();
            if (count < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.EIntr)
                    continue;
                Environment.FailFast($"FedMesh socket loop: epoll_wait failed, errno {errno}");
            }
            var streams = Volatile.Read(ref _streams);
            t_dispatching = this;
            for (var i = 0; i < count; i++)
            {
                var flags = Libc.ReadEvent(events + i * Libc.EpollEventSize, out var data);
                var slot = (int)(uint)data;
                var stream = (uint)slot < (uint)streams.Length ? Volatile.Read(ref streams[slot]) : null;
                if (stream is not null && stream.Generation == (uint)(data >> 32))
                    stream.OnEvents(flags);
            }
            t_dispatching = null;
            EndTurn();
        }
    }

    private void EndTurn()
    {
        // Not dispatching any more: what these actions' work asks to defer is done at once.
        for (var i = 0; i < _atTurnEnd.Count; i++)
            _atTurnEnd[i]();
        _atTurnEnd.Clear();
    }
}

/// <summary>
/// The Linux calls of <see cref="SocketLoop"/> and <see cref="LoopStream"/>, and their constants: those of x86-64 and
/// arm64, which share the generic values (errno, socket options, flags) and differ in <c>struct epoll_event</c> alone.
/// </summary>
internal static unsafe class Libc
{
    /// <summary>Whether this process's architecture is one whose layout and constants these are.</summary>
    public static readonly bool Supported = RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    /// <summary>
    /// The size of the kernel's <c>struct epoll_event</c> (a 32-bit event mask, then 64 bits of data): packed on x86-64,
    /// 12 bytes; aligned elsewhere, 16 bytes, the data at offset 8.
    /// </summary>
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    /// <summary>Writes one <c>epoll_event</c> at <paramref name="at"/> (<see cref="EpollEventSize"/> bytes).</summary>
    public static void WriteEvent(byte* at, uint events, ulong data)
    {
        *(uint*)at = events;
        Unsafe.WriteUnaligned(at + EpollEventSize - 8, data);
    }

    /// <summary>Reads the <c>epoll_event</c> at <paramref name="at"/>: its event mask, and its data.</summary>
    public static uint ReadEvent(byte* at, out ulong data)
    {
        data = Unsafe.ReadUnaligned<ulong>(at + EpollEventSize - 8);
        return *(uint*)at;
    }

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
    public const int IpProtoTcp = 6;
    public const int TcpDeferAccept = 9;

    [DllImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static extern int EpollCreate1(int flags);

    [DllImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    public static extern int EpollCtl(int epoll, int op, int fd, byte* ev);

    [DllImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static extern int EpollWait(int epoll, byte* events, int max, int timeoutMs);

    [DllImport("libc", EntryPoint = "sched_yield")]
    public static extern int SchedYield();

    [DllImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static extern nint Recv(int fd, byte* buffer, nint length, int flags);

    [DllImport("libc", EntryPoint = "send", SetLastError = true)]
    public static extern nint Send(int fd, byte* buffer, nint length, int flags);

    [DllImport("libc", EntryPoint = "connect", SetLastError = true)]
    public static extern int Connect(int fd, byte* address, int length);

    [DllImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    public static extern int GetSockOpt(int fd, int level, int name, int* value, int* length);
}
