using System.Net;
using FedMesh.Core.Kubernetes;
using FedMesh.Core.Resources;
using k8s;
using k8s.Autorest;

namespace FedMesh.Linker.Kubernetes;

/// <summary>
/// Where other clusters reach a Kubernetes cluster's gateway: the LoadBalancer address of its gateway
/// Service, or what <c>--gateway-address [CLUSTER=]HOST:PORT</c> says (without CLUSTER it names the link's target).
/// </summary>
internal sealed class GatewayAddresses
{
    private readonly Dictionary<string, string> _given = new(StringComparer.Ordinal);

    public GatewayAddresses(IEnumerable<string> values, string target)
    {
        foreach (var value in values)
        {
            var equals = value.IndexOf('=', StringComparison.Ordinal);
            var cluster = equals < 0 ? target : value[..equals];
            var address = equals < 0 ? value : value[(equals + 1)..];
            var colon = address.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(address[(colon + 1)..], out var port) || port is < 1 or > 65535)
                throw new CliException($"--gateway-address '{value}' must be [CLUSTER=]HOST:PORT, for example {target}=172.18.0.5:4143", ExitCodes.Usage);
            _given[cluster] = address;
        }
    }

    public async Task<string> OfAsync(string cluster, IKubernetes client, CancellationToken cancellationToken)
    {
        if (_given.TryGetValue(cluster, out var given)) return given;
        const string ns = WellKnown.SystemNamespace;
        const string name = InstallDefaults.GatewayName;
        k8s.Models.V1Service service;
        try
        {
            service = await client.CoreV1.ReadNamespacedServiceAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new CliException($"cluster '{cluster}' has no gateway Service {ns}/{name}; run 'fedmesh install --cluster {cluster} --apply' first, or pass --gateway-address {cluster}=HOST:PORT");
        }
        var ingress = service.Status?.LoadBalancer?.Ingress?.FirstOrDefault(i => !string.IsNullOrEmpty(i.Ip) || !string.IsNullOrEmpty(i.Hostname));
        var port = service.Spec?.Ports?.FirstOrDefault()?.Port;
        if (ingress is null || port is null)
            throw new CliException($"the gateway Service {ns}/{name} of cluster '{cluster}' has no LoadBalancer address yet (kind needs a load balancer such as cloud-provider-kind); wait for one, or pass --gateway-address {cluster}=HOST:PORT");
        var host = string.IsNullOrEmpty(ingress.Ip) ? ingress.Hostname : ingress.Ip;
        return host.Contains(':', StringComparison.Ordinal) ? $"[{host}]:{port}" : $"{host}:{port}";
    }
}
