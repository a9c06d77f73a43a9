namespace FedMesh.Core.Http2;

/// <summary>The settings RFC 9113 §6.5.2 defines; a receiver ignores any other identifier.</summary>
internal enum Http2SettingId : ushort
{
    HeaderTableSize = 0x1,
    EnablePush = 0x2,
    MaxConcurrentStreams = 0x3,
    InitialWindowSize = 0x4,
    MaxFrameSize = 0x5,
    MaxHeaderListSize = 0x6,
}

/// <summary>One identifier/value pair of a SETTINGS frame, as it is sent.</summary>
internal readonly record struct Http2Setting(Http2SettingId Id, uint Value);

/// <summary>
/// One side's settings as the other side knows them: the RFC 9113 §6.5.2 initial values until a SETTINGS frame changes
/// some of them. A value struct, so applying a frame makes a new one without allocating. <c>default</c> is not a valid
/// set of settings; <c>new Http2Settings()</c> is the initial one.
/// </summary>
/// <param name="HeaderTableSize">The most the HPACK decoder's dynamic table may hold, in octets.</param>
/// <param name="EnablePush">Whether the sender accepts PUSH_PROMISE (a server never sets it to true).</param>
/// <param name="MaxConcurrentStreams">The most streams the sender lets its peer open at once; <see cref="Unlimited"/> until set.</param>
/// <param name="InitialWindowSize">Each new stream's flow-control window for what the sender receives.</param>
/// <param name="MaxFrameSize">The largest frame payload the sender accepts.</param>
/// <param name="MaxHeaderListSize">The largest field section the sender accepts (RFC 9113 §6.5.2 sizing); <see cref="Unlimited"/> until set.</param>
internal readonly record struct Http2Settings(
    uint HeaderTableSize, bool EnablePush, uint MaxConcurrentStreams, int InitialWindowSize, int MaxFrameSize, uint MaxHeaderListSize)
{
    /// <summary>The value of a setting that has no limit until the peer sets one.</summary>
    public const uint Unlimited = uint.MaxValue;

    /// <summary>The initial values (RFC 9113 §6.5.2).</summary>
    public Http2Settings() : this(4096, true, Unlimited, 65_535, Http2Frames.MinMaxFrameSize, Unlimited)
    {
    }

    /// <summary>
    /// These settings with one value changed; an unknown identifier changes nothing. Throws a connection error for a
    /// value RFC 9113 §6.5.2 does not allow.
    /// </summary>
    public Http2Settings With(Http2SettingId id, uint value)
    {
        var error = Check(id, value);
        if (error != Http2ErrorCode.NoError)
            throw new Http2ConnectionException(error, $"SETTINGS frame on stream 0: {Describe(id, value)}");
        return id switch
        {
            Http2SettingId.HeaderTableSize => this with { HeaderTableSize = value },
            Http2SettingId.EnablePush => this with { EnablePush = value == 1 },
            Http2SettingId.MaxConcurrentStreams => this with { MaxConcurrentStreams = value },
            Http2SettingId.InitialWindowSize => this with { InitialWindowSize = (int)value },
            Http2SettingId.MaxFrameSize => this with { MaxFrameSize = (int)value },
            Http2SettingId.MaxHeaderListSize => this with { MaxHeaderListSize = value },
            _ => this,
        };
    }

    /// <summary>The error a receiver must raise for <paramref name="value"/> of <paramref name="id"/>, or NO_ERROR when it is allowed.</summary>
    public static Http2ErrorCode Check(Http2SettingId id, uint value) => id switch
    {
        Http2SettingId.EnablePush when value > 1 => Http2ErrorCode.ProtocolError,
        Http2SettingId.InitialWindowSize when value > Http2Frames.MaxWindowSize => Http2ErrorCode.FlowControlError,
        Http2SettingId.MaxFrameSize when value is < Http2Frames.MinMaxFrameSize or > Http2Frames.MaxMaxFrameSize => Http2ErrorCode.ProtocolError,
        _ => Http2ErrorCode.NoError,
    };

    /// <summary>Why a value <see cref="Check"/> refuses is wrong, for error messages.</summary>
    public static string Describe(Http2SettingId id, uint value) => id switch
    {
        Http2SettingId.EnablePush => $"SETTINGS_ENABLE_PUSH is {value}, not 0 or 1",
        Http2SettingId.InitialWindowSize => $"SETTINGS_INITIAL_WINDOW_SIZE is {value}, above 2^31-1",
        Http2SettingId.MaxFrameSize => $"SETTINGS_MAX_FRAME_SIZE is {value}, outside 16384..16777215",
        _ => $"setting 0x{(ushort)id:x4} is {value}",
    };
}
