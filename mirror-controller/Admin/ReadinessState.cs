namespace FedMesh.MirrorController.Admin;

/// <summary>What <c>/ready</c> waits for: the store open, the Links and the discovery model listed, gRPC listening.</summary>
internal sealed class ReadinessState
{
    private volatile bool _storeOpen;
    private volatile bool _linksSynced;
    private volatile bool _discoverySynced;
    private volatile bool _grpcListening;

    public void MarkStoreOpen() => _storeOpen = true;
    public void MarkLinksSynced() => _linksSynced = true;
    public void MarkDiscoverySynced() => _discoverySynced = true;
    public void MarkGrpcListening() => _grpcListening = true;

    public bool IsReady => _storeOpen && _linksSynced && _discoverySynced && _grpcListening;

    /// <summary>What is still missing, for the body of a 503.</summary>
    public IReadOnlyList<string> Missing()
    {
        var missing = new List<string>(4);
        if (!_storeOpen) missing.Add("store not open");
        if (!_linksSynced) missing.Add("links not listed");
        if (!_discoverySynced) missing.Add("discovery model not listed");
        if (!_grpcListening) missing.Add("gRPC not listening");
        return missing;
    }
}
