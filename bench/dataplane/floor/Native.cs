using System.Runtime.InteropServices;

namespace FedMesh.Bench.Floor;

/// <summary>The Linux calls the probe makes itself: epoll and non-blocking send/recv on the sockets' descriptors.</summary>
internal static unsafe class Libc
{
    public const uint EpollIn = 0x001;
    public const uint EpollEdgeTriggered = 1u << 31;
    public const int EpollCtlAdd = 1;
    public const int EAgain = 11;

    /// <summary>The kernel's <c>struct epoll_event</c>: packed on x86-64 (12 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [DllImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static extern int EpollCreate(int flags);

    [DllImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    public static extern int EpollCtl(int epoll, int op, int fd, EpollEvent* ev);

    [DllImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static extern int EpollWait(int epoll, EpollEvent* events, int max, int timeoutMs);

    [DllImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static extern nint Recv(int fd, byte* buffer, nint length, int flags);

    [DllImport("libc", EntryPoint = "send", SetLastError = true)]
    public static extern nint Send(int fd, byte* buffer, nint length, int flags);
}

/// <summary>The OpenSSL 3 calls of a TLS client (libssl.so.3, the library .NET itself uses on Linux).</summary>
internal static unsafe class OpenSsl
{
    private const string Lib = "libssl.so.3";
    public const int FiletypePem = 1;
    public const int VerifyPeer = 1;
    public const int ErrorWantRead = 2;
    private const int CtrlSetTlsExtHostName = 55;
    private const int TlsExtNameTypeHostName = 0;

    [DllImport(Lib, EntryPoint = "TLS_client_method")]
    public static extern nint TlsClientMethod();

    [DllImport(Lib, EntryPoint = "SSL_CTX_new")]
    public static extern nint CtxNew(nint method);

    [DllImport(Lib, EntryPoint = "SSL_CTX_use_certificate_chain_file")]
    public static extern int CtxUseCertificateChainFile(nint ctx, [MarshalAs(UnmanagedType.LPUTF8Str)] string file);

    [DllImport(Lib, EntryPoint = "SSL_CTX_use_PrivateKey_file")]
    public static extern int CtxUsePrivateKeyFile(nint ctx, [MarshalAs(UnmanagedType.LPUTF8Str)] string file, int type);

    [DllImport(Lib, EntryPoint = "SSL_CTX_load_verify_locations")]
    public static extern int CtxLoadVerifyLocations(nint ctx, [MarshalAs(UnmanagedType.LPUTF8Str)] string file, nint directory);

    [DllImport(Lib, EntryPoint = "SSL_CTX_set_verify")]
    public static extern void CtxSetVerify(nint ctx, int mode, nint callback);

    [DllImport(Lib, EntryPoint = "SSL_new")]
    public static extern nint New(nint ctx);

    [DllImport(Lib, EntryPoint = "SSL_free")]
    public static extern void Free(nint ssl);

    [DllImport(Lib, EntryPoint = "SSL_set_fd")]
    public static extern int SetFd(nint ssl, int fd);

    [DllImport(Lib, EntryPoint = "SSL_ctrl")]
    private static extern long Ctrl(nint ssl, int command, long larg, byte* parg);

    [DllImport(Lib, EntryPoint = "SSL_connect")]
    public static extern int Connect(nint ssl);

    [DllImport(Lib, EntryPoint = "SSL_read")]
    public static extern int Read(nint ssl, byte* buffer, int length);

    [DllImport(Lib, EntryPoint = "SSL_write")]
    public static extern int Write(nint ssl, byte* buffer, int length);

    [DllImport(Lib, EntryPoint = "SSL_get_error")]
    public static extern int GetError(nint ssl, int result);

    /// <summary>The SNI name (a macro over SSL_ctrl in OpenSSL's headers).</summary>
    public static void SetHostName(nint ssl, string name)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(name + "\0");
        fixed (byte* p = bytes)
            Ctrl(ssl, CtrlSetTlsExtHostName, TlsExtNameTypeHostName, p);
    }
}
