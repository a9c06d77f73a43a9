using FedMesh.Core.Resources;

namespace FedMesh.Core.Validation;

/// <summary>Service: ports in range, port names unique.</summary>
internal sealed class ServiceValidator
{
    private static readonly string[] Protocols = ["TCP", "UDP", "SCTP"];

    public void Validate(ServiceSpec spec, ValidationCollector c)
    {
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < spec.Ports.Count; i++)
        {
            var path = ValidationCollector.Index("spec.ports", i);
            var port = spec.Ports[i];
            if (port is null) { c.Add(path, "must not be empty"); continue; }
            FieldChecks.Range(c, path + ".port", port.Port, 1, 65535);
            if (port.TargetPort is { } target)
                FieldChecks.Range(c, path + ".targetPort", target, 1, 65535);
            if (port.Protocol is { } protocol && Array.IndexOf(Protocols, protocol) < 0)
                c.Add(path + ".protocol", $"\"{protocol}\" is not supported; use one of {string.Join(", ", Protocols)}");
            if (port.Name is { } name)
            {
                FieldChecks.DnsLabel(c, path + ".name", name, required: false);
                if (names.TryGetValue(name, out var first))
                    c.Add(path + ".name", $"\"{name}\" is already used by spec.ports[{first}]; port names must be unique");
                else
                    names[name] = i;
            }
        }
    }
}
