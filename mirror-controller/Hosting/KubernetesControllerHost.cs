using System.Net;
using FedMesh.Core.Identity;
using FedMesh.Core.Kubernetes;
using FedMesh.Core.Store.Kubernetes;
using FedMesh.Core.Store.Kubernetes.Workloads;
using FedMesh.MirrorController.Identity;
using FedMesh.MirrorController.Targets;
using k8s;
using k8s.Exceptions;
using Microsoft.Extensions.Hosting;

namespace FedMesh.MirrorController.Hosting;

/// <summary>
/// The controller in a Kubernetes pod: its own cluster's store through the in-cluster service account, the endpoints of
/// injected pods from Services' EndpointSlices and the pods themselves, link targets through each link's credentials Secret, the issuer from the mounted Secret, and gRPC and
/// admin ports on every interface so the cluster's proxies and gateway reach it through its Service. Callers of
/// the Identity service are authorized by TokenReview of their projected service-account tokens.
/// </summary>
internal static class KubernetesControllerHost
{
    public static async Task<int> RunAsync(MirrorControllerOptions options, KubernetesControllerSettings settings, CancellationToken ct)
    {
        var time = TimeProvider.System;
        ControllerSetup setup;
        IKubernetes client;
        try
        {
            client = new k8s.Kubernetes(KubernetesClientConfiguration.InClusterConfig());
            setup = CreateSetup(client, options, settings, time, IPAddress.Any, InstallDefaults.ControllerGrpcPort, InstallDefaults.ControllerAdminPort);
        }
        catch (Exception e) when (e is KubeConfigException or IdentityException or IOException)
        {
            await Console.Error.WriteLineAsync($"mirror-controller: cannot start for cluster '{options.Cluster}' in Kubernetes mode: {e.Message} (FEDMESH_STORE=kubernetes runs only inside a pod with a service account; unset it to run a local cluster)").ConfigureAwait(false);
            return 1;
        }
        try
        {
            await using var app = ControllerApplication.Build(setup);
            await ((IHost)app).RunAsync(ct).ConfigureAwait(false);
            return 0;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return 0;
        }
        finally
        {
            await ((IAsyncDisposable)setup.Targets).DisposeAsync().ConfigureAwait(false);
            ((IDisposable)setup.Store).Dispose();
            setup.Issuer?.Issuer.Dispose();
            client.Dispose();
        }
    }

    /// <summary>Everything the controller is built from, given a client for its own cluster (in-cluster, or a test server).</summary>
    public static ControllerSetup CreateSetup(IKubernetes client, MirrorControllerOptions options, KubernetesControllerSettings settings, TimeProvider time, IPAddress listen, int grpcPort, int adminPort)
    {
        var storeOptions = new KubernetesStoreOptions { TimeProvider = time, RetryMaxDelay = options.WatchRetryMaxDelay };
        return new ControllerSetup
        {
            Identity = new ControllerIdentity(options.Cluster, settings.TrustDomain),
            Store = new KubernetesClusterStore(options.Cluster, client, storeOptions),
            Workloads = new KubernetesWorkloadEndpoints(options.Cluster, settings.TrustDomain, client, storeOptions),
            Targets = new KubernetesTargetStoreResolver(client, storeOptions),
            Options = options,
            ListenAddress = listen,
            GrpcPort = grpcPort,
            AdminPort = adminPort,
            Issuer = LoadIssuer(settings.IssuerDirectory, time, new TokenReviewAuthorizer(client, settings.TrustDomain, options.Cluster)),
            Time = time,
        };
    }

    /// <summary>The mounted issuer; without FEDMESH_ISSUER_DIR the Identity service is not offered.</summary>
    private static IssuerSetup? LoadIssuer(string? directory, TimeProvider time, ICertifyAuthorizer authorizer) =>
        directory is null ? null : new IssuerSetup(CertificateAuthority.Load(directory, time), authorizer);
}
