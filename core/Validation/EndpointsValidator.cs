using FedMesh.Core.Resources;

namespace FedMesh.Core.Validation;

/// <summary>Endpoints: every address host:port, identities SPIFFE ids, weights not negative.</summary>
internal sealed class EndpointsValidator
{
    public void Validate(EndpointsSpec spec, ValidationCollector c)
    {
        for (var i = 0; i < spec.Endpoints.Count; i++)
        {
            var path = ValidationCollector.Index("spec.endpoints", i);
            var endpoint = spec.Endpoints[i];
            if (endpoint is null) { c.Add(path, "must not be empty"); continue; }
            FieldChecks.HostPort(c, path + ".address", endpoint.Address);
            FieldChecks.SpiffeId(c, path + ".identity", endpoint.Identity, required: false);
            FieldChecks.DnsLabel(c, path + ".cluster", endpoint.Cluster, required: false);
            if (endpoint.Weight < 0)
                c.Add(path + ".weight", $"must be 0 or more (got {endpoint.Weight})");
        }
    }
}
