using FedMesh.Core.Store;
using FedMesh.Proxy.Configuration;

namespace FedMesh.Proxy.Hosting;

internal sealed partial class ProxyRuntime
{
    private static IClusterStore CreateLocalStore(ProxyOptions options)
        => throw new NotSupportedException("LocalClusterStore not wired yet");
}
