using System.Net;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FedMesh.Kubernetes.Tests.ApiServer;

/// <summary>
/// A Kubernetes-API-compatible server on 127.0.0.1 (Kestrel, port 0) for what FedMesh uses: list, watch
/// (streamed JSON lines, BOOKMARK events, timeoutSeconds), get, create, replace and merge patch with
/// resourceVersion conflicts, delete with preconditions, 410 Gone for a resourceVersion older than its
/// bounded history, bearer tokens with RBAC (401/403 as Status bodies), CRD structural schemas (422),
/// service-account token Secrets that mint usable tokens, projected service-account tokens with audiences and
/// expiry, TokenReview (authentication.k8s.io/v1) of every token it knows, and cascading deletes (a Namespace
/// takes its objects along, a CRD its custom resources; at once, where a real server finalizes in the background).
/// Not served: subresources, field selectors, set-based label selectors, pagination, namespace phases and finalizers.
/// </summary>
internal sealed partial class FakeApiServer : IAsyncDisposable
{
    public const string AdminToken = "admin-token";

    private readonly WebApplication _app;
    private CancellationTokenSource _endWatches = new();
    private int _watchRequests;
    private int _requests;

    private FakeApiServer(WebApplication app, ObjectStore objects, Authorizer authorizer, TimeSpan bookmarkInterval)
    {
        _app = app;
        Objects = objects;
        Authorizer = authorizer;
        BookmarkInterval = bookmarkInterval;
    }

    internal ObjectStore Objects { get; }
    internal Authorizer Authorizer { get; }
    public TimeSpan BookmarkInterval { get; }
    public string Url { get; private set; } = "";

    /// <summary>Watch requests received so far (each resume or relist is one more).</summary>
    public int WatchRequests => Volatile.Read(ref _watchRequests);

    /// <summary>Requests received so far, of any verb and outcome.</summary>
    public int Requests => Volatile.Read(ref _requests);

    public static async Task<FakeApiServer> StartAsync(int historyLimit = 1000, TimeSpan? bookmarkInterval = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var objects = new ObjectStore(historyLimit, TimeProvider.System);
        var server = new FakeApiServer(app, objects, new Authorizer(objects, TimeProvider.System), bookmarkInterval ?? TimeSpan.FromMilliseconds(200));
        server.Authorizer.AddToken(AdminToken, "admin", [AccessRule.Everything]);
        app.Run(server.HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        server.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return server;
    }

    /// <summary>A KubernetesClient for this server with <paramref name="token"/> (default: the admin token).</summary>
    public IKubernetes Client(string token = AdminToken) =>
        new k8s.Kubernetes(new KubernetesClientConfiguration { Host = Url, AccessToken = token });

    public void AddToken(string token, params AccessRule[] rules) => Authorizer.AddToken(token, token, rules);

    /// <summary>
    /// A projected service-account token for <paramref name="audience"/>, as the kubelet mounts into a pod of
    /// <paramref name="namespace"/> running as <paramref name="serviceAccount"/>; expired already for a negative lifetime.
    /// </summary>
    public string IssueProjectedToken(string @namespace, string serviceAccount, string audience, TimeSpan lifetime) =>
        Authorizer.IssueProjectedToken(@namespace, serviceAccount, [audience], lifetime);

    /// <summary>Drops the change history (etcd compaction): watches from an older resourceVersion get 410 Gone.</summary>
    public void Compact() => Objects.Compact();

    /// <summary>Ends every open watch stream now, as a server restart or a proxy timeout would.</summary>
    public void EndAllWatches()
    {
        // Not disposed: a watch request may still be reading its token (a source without a timer holds nothing).
        Interlocked.Exchange(ref _endWatches, new CancellationTokenSource()).Cancel();
    }

    public async ValueTask DisposeAsync()
    {
        EndAllWatches();
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
