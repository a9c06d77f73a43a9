using FedMesh.Core.Store;
using FedMesh.Core.Store.Local;
using FedMesh.Proxy.Configuration;
using Microsoft.Extensions.Logging;

namespace FedMesh.Proxy.Hosting;

internal sealed partial class ProxyRuntime
{
    /// <summary>The local federation's store: one directory per cluster.</summary>
    private IClusterStore CreateLocalStore(ProxyOptions options)
        => new LocalClusterStore(options.Cluster, options.Store!, _time, logger: _loggerFactory.CreateLogger<LocalClusterStore>());
}
