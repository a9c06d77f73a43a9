using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FedMesh.MirrorController.Canary;

internal static class CanaryServiceCollectionExtensions
{
    /// <summary>Progressive canaries: analysis over the proxies' stats and the rollout that moves the weights.</summary>
    public static IServiceCollection AddCanaryRollouts(this IServiceCollection services)
    {
        services.TryAddSingleton(new CanaryOptions());
        services.AddSingleton<CanaryAnalyzer>();
        services.AddSingleton<CanaryRollout>();
        services.AddHostedService<CanaryController>();
        return services;
    }
}
