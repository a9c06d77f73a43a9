using FedMesh.Core.Resources;

namespace FedMesh.MirrorController.Tests.Support;

/// <summary>Resource builders for tests.</summary>
internal static class Objects
{
    public static Service Service(string name, bool exported = true, string ns = "default", params (string Key, string Value)[] labels)
    {
        var service = new Service();
        service.Metadata.Name = name;
        service.Metadata.Namespace = ns;
        service.Metadata.Labels = labels.ToDictionary(l => l.Key, l => l.Value);
        if (exported)
            service.Metadata.Labels[WellKnown.ExportedLabel] = "true";
        service.Spec.Ports.Add(new ServicePort { Name = "http", Port = 8080, TargetPort = 8080, Protocol = "TCP" });
        return service;
    }

    public static Link Link(string target, string gateway = "127.0.0.1:4143", bool mirror = true, Dictionary<string, string>? selector = null)
    {
        var link = new Link();
        link.Metadata.Name = target;
        link.Metadata.Namespace = WellKnown.SystemNamespace;
        link.Spec.TargetCluster = target;
        link.Spec.GatewayAddress = gateway;
        link.Spec.GatewayIdentity = $"spiffe://fedmesh.local/cluster/{target}/ns/fedmesh-system/sa/gateway";
        link.Spec.Mirror = mirror;
        if (selector is not null)
            link.Spec.Selector = new LabelSelector { MatchLabels = selector };
        return link;
    }

    public static Endpoints Endpoints(string name, string ns = "default", params string[] addresses)
    {
        var endpoints = new Endpoints();
        endpoints.Metadata.Name = name;
        endpoints.Metadata.Namespace = ns;
        foreach (var address in addresses)
            endpoints.Spec.Endpoints.Add(new EndpointEntry { Address = address, Instance = address, Identity = "spiffe://x", Ready = true, Weight = 1 });
        return endpoints;
    }

    public static Service WithoutExport(this Service service)
    {
        service.Metadata.Labels?.Remove(WellKnown.ExportedLabel);
        return service;
    }
}
