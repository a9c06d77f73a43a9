namespace FedMesh.Core.Http2;

/// <summary>
/// SETTINGS both ways: the peer's applied and acknowledged, and ours timed: the peer must acknowledge them within
/// <see cref="Http2ConnectionOptions.SettingsTimeout"/> (RFC 9113 §6.5.3), watched by one timer a connection, armed at
/// the start and disarmed by the ACK, so that no frame costs anything for it.
/// </summary>
internal sealed partial class Http2Connection
{
    private ITimer? _settingsTimer;
    private volatile bool _settingsAcknowledged;

    /// <summary>
    /// Completed once the peer's first SETTINGS are applied (its SETTINGS_MAX_HEADER_LIST_SIZE known), or the connection
    /// has ended: a large header block waits for it (see SendHeadersAsync).
    /// </summary>
    private readonly TaskCompletionSource _peerSettingsCame = NewSignal();

    private bool _peerSettingsApplied; // guarded by _state: the peer's first SETTINGS came (not just the connection's end)

    /// <summary>Set once, by something other than the read loop that ends the connection with a connection error (the read loop sends its GOAWAY).</summary>
    private Http2ConnectionException? _failure;

    /// <summary>Starts the wait for the peer's acknowledgement of the SETTINGS in our preface.</summary>
    private void ArmSettingsTimeout()
    {
        if (_options.SettingsTimeout == Timeout.InfiniteTimeSpan)
            return;
        _settingsTimer = _options.TimeProvider.CreateTimer(static state => ((Http2Connection)state!).OnSettingsTimeout(), this,
            _options.SettingsTimeout, Timeout.InfiniteTimeSpan);
    }

    private void DisarmSettingsTimeout() => Interlocked.Exchange(ref _settingsTimer, null)?.Dispose();

    private void OnSettingsTimeout()
    {
        if (_settingsAcknowledged)
            return; // the ACK came as the timer fired
        Fail(new Http2ConnectionException(Http2ErrorCode.SettingsTimeout,
            $"the peer did not acknowledge our SETTINGS within {_options.SettingsTimeout.TotalSeconds:0.###} s (RFC 9113 §6.5.3)"));
    }

    /// <summary>Ends the connection from outside the read loop with a connection error: the read loop stops, sends GOAWAY with its code and closes.</summary>
    private void Fail(Http2ConnectionException error)
    {
        if (Interlocked.CompareExchange(ref _failure, error, null) is null)
            _closing.Cancel();
    }

    private void OnSettings(in Http2FrameHeader header, System.Buffers.ReadOnlySequence<byte> payload)
    {
        if (header.Has(Http2Flags.Ack))
        {
            Http2FrameReader.ReadSettings(header, payload, default);
            // We send SETTINGS once, in the preface: this acknowledges it.
            _settingsAcknowledged = true;
            DisarmSettingsTimeout();
            return;
        }
        Http2Settings next;
        lock (_state)
        {
            var before = _peer;
            next = Http2FrameReader.ReadSettings(header, payload, before);
            var delta = (long)next.InitialWindowSize - before.InitialWindowSize;
            if (delta != 0)
            {
                foreach (var stream in _streams.Values)
                {
                    stream.SendWindow += delta;
                    if (stream.SendWindow > Http2Frames.MaxWindowSize)
                        throw new Http2ConnectionException(Http2ErrorCode.FlowControlError,
                            $"SETTINGS_INITIAL_WINDOW_SIZE {next.InitialWindowSize} takes {stream}'s send window past 2^31-1");
                }
                SignalWindow();
            }
            _peer = next;
            _peerSettingsApplied = true;
        }
        // The ACK carries the header table size to the encoder when it is written (see WriteControl); queued first, so
        // that a header block that waited for these settings is encoded after it.
        SendControl(new ControlFrame(Http2FrameType.Settings, 0, next.HeaderTableSize));
        _peerSettingsCame.TrySetResult();
    }
}
