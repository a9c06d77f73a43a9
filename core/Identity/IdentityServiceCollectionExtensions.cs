using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FedMesh.Core.Identity;

/// <summary>Registers the Identity gRPC service.</summary>
public static class IdentityServiceCollectionExtensions
{
    /// <summary>
    /// Registers gRPC and one <see cref="IdentityService"/> signing for <paramref name="cluster"/>; map it with
    /// <c>app.MapGrpcService&lt;IdentityService&gt;()</c>.
    /// </summary>
    public static IServiceCollection AddIdentityService(this IServiceCollection services, CertificateAuthority issuer,
        string cluster, string trustDomain, string bootstrapToken, TimeSpan? leafLifetime = null) =>
        services.AddIdentityService(issuer, cluster, trustDomain, CertifyAuthorizers.BootstrapToken(cluster, bootstrapToken), leafLifetime);

    /// <summary>
    /// Registers gRPC and one <see cref="IdentityService"/> signing for <paramref name="cluster"/> whose callers are judged by
    /// <paramref name="authorizer"/>; map it with <c>app.MapGrpcService&lt;IdentityService&gt;()</c>.
    /// </summary>
    public static IServiceCollection AddIdentityService(this IServiceCollection services, CertificateAuthority issuer,
        string cluster, string trustDomain, ICertifyAuthorizer authorizer, TimeSpan? leafLifetime = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        // Built once here so a mismatched issuer fails at startup, not at the first Certify call.
        _ = new IdentityService(issuer, cluster, trustDomain, authorizer, null, leafLifetime);
        services.AddGrpc();
        services.AddSingleton(sp => new IdentityService(issuer, cluster, trustDomain, authorizer,
            sp.GetService<ILogger<IdentityService>>(), leafLifetime));
        return services;
    }
}
