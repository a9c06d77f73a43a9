using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FedMesh.Core.Kubernetes;
using FedMesh.Proxy.Admin;
using FedMesh.Proxy.Configuration;
using Microsoft.AspNetCore.Http;

namespace FedMesh.Kubernetes.Tests.Manifests;

/// <summary>
/// The sidecar <c>fedmesh inject</c> writes must start as the proxy: its args, with <c>$(VAR)</c> expanded from
/// its downward-API env as the kubelet does, go through the proxy's own binder and validator; its probes and the
/// init container's iptables rules must agree with the listeners those args open.
/// </summary>
public sealed partial class InjectedSidecarTests
{
    private static readonly Dictionary<string, string> PodFields = new()
    {
        ["metadata.name"] = "echo-7d9f8b6c5-x2x4q",
        ["metadata.namespace"] = "default",
        ["spec.serviceAccountName"] = "default",
    };

    [Fact]
    public void InjectedEcho_SidecarArgsExpandedAsTheKubeletDoes_PassTheProxysBinderAndValidator()
    {
        var proxy = Container(Pod(Inject(Example())), SidecarInjector.ProxyContainer);
        var args = Expand(proxy);
        var tokenFile = Path.GetTempFileName();
        try
        {
            // The kubelet mounts the projected token there; the validator checks the file exists, so point it at one that does.
            Assert.Equal(MountedTokenPath(Pod(Inject(Example())), proxy), Value(args, "--TokenFile"));
            args[args.IndexOf("--TokenFile") + 1] = tokenFile;

            var options = ProxyOptionsBinder.Bind(args.ToArray(), out var errors);

            Assert.Empty(errors);
            Assert.Equal(("east", "default", "echo"), (options.Cluster, options.Namespace, options.Service));
            Assert.Equal("echo-7d9f8b6c5-x2x4q.default", options.Instance);
            Assert.Equal("default", options.EffectiveServiceAccount);
            Assert.Equal("http://127.0.0.1:8080", options.App);
            Assert.Equal(InstallDefaults.ControllerUrl, options.Controller);
        }
        finally
        {
            File.Delete(tokenFile);
        }
    }

    [Fact]
    public async Task InjectedEcho_ProbesAndCaptureRules_AgreeWithTheListenersOfItsArgs()
    {
        var pod = Pod(Inject(Example()));
        var proxy = Container(pod, SidecarInjector.ProxyContainer);
        var args = Expand(proxy);
        Assert.True(ProxyOptionsValidator.TryParseListen(Value(args, "--Outbound"), out var outbound));
        Assert.True(ProxyOptionsValidator.TryParseListen(Value(args, "--Inbound"), out var inbound));
        Assert.True(ProxyOptionsValidator.TryParseListen(Value(args, "--AdminListen"), out var admin));

        // Probes: on the admin listener, on paths the proxy's admin handler serves (not its 404).
        foreach (var (probe, path) in new[] { ("livenessProbe", "/live"), ("readinessProbe", "/ready") })
        {
            Assert.Equal(path, proxy[probe]!["httpGet"]!["path"]!.GetValue<string>());
            Assert.Equal(admin!.Port, (int)proxy[probe]!["httpGet"]!["port"]!.GetValue<long>());
            Assert.NotEqual(StatusCodes.Status404NotFound, await AdminStatusAsync(path));
        }
        Assert.Equal(System.Net.IPAddress.Any, admin!.Address); // the kubelet probes the pod's IP
        Assert.Equal(System.Net.IPAddress.Any, inbound!.Address); // peers and gateways dial the pod's IP
        Assert.Contains(inbound.Port, proxy["ports"]!.AsArray().Select(p => (int)p!["containerPort"]!.GetValue<long>()));

        // Capture: locally generated packets are REDIRECTed to 127.0.0.1, so the outbound listener must be on loopback.
        Assert.Equal(System.Net.IPAddress.Loopback, outbound!.Address);
        var uid = proxy["securityContext"]!["runAsUser"]!.GetValue<long>();
        var rules = Container(pod, SidecarInjector.InitContainer)["args"]![0]!.GetValue<string>().Split('\n').ToList();
        var redirect = rules.FindIndex(r => r.EndsWith($"-j REDIRECT --to-ports {outbound.Port}", StringComparison.Ordinal));
        var ownTraffic = rules.FindIndex(r => r.Contains($"-m owner --uid-owner {uid} -j RETURN", StringComparison.Ordinal));
        var adminPort = rules.FindIndex(r => r.Contains($"-p tcp --dport {admin.Port} -j RETURN", StringComparison.Ordinal));
        Assert.True(redirect >= 0, $"no REDIRECT to the outbound port {outbound.Port} in:\n{string.Join('\n', rules)}");
        Assert.InRange(ownTraffic, 0, redirect - 1); // the proxy's own connections must not loop back into it
        Assert.InRange(adminPort, 0, redirect - 1);
        Assert.Single(rules, r => r.Contains("REDIRECT", StringComparison.Ordinal));
    }

    [Fact]
    public void Inject_Annotations_SetTheAppPortServiceNameProtocolAndBusyPollWindow()
    {
        const string yaml = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: data}\nspec:\n  template:\n"
            + "    metadata:\n      labels: {app: Database_Main}\n      annotations: {fedmesh.io/app-port: \"5433\", fedmesh.io/service: orders-db, fedmesh.io/app-protocol: http2,"
            + " fedmesh.io/busy-poll-us: \"100\"}\n"
            + "    spec:\n      containers:\n      - {name: db, image: example/db, ports: [{containerPort: 5432}]}\n";

        var once = SidecarInjector.Inject(yaml, new InjectOptions { Cluster = "east" });
        var args = Expand(Container(Pod(once), SidecarInjector.ProxyContainer));

        Assert.Equal("http://127.0.0.1:5433", Value(args, "--App"));
        Assert.Equal("orders-db", Value(args, "--Service"));
        Assert.Equal("http2", Value(args, "--AppProtocol"));
        Assert.Equal("100", Env(Container(Pod(once), SidecarInjector.ProxyContainer), "FEDMESH_BUSY_POLL_US"));
        Assert.Equal(once, SidecarInjector.Inject(once, new InjectOptions { Cluster = "east" }));
        // Without the annotation the sidecar does not poll: no window in its environment.
        Assert.Null(Env(Container(Pod(Inject(Example())), SidecarInjector.ProxyContainer), "FEDMESH_BUSY_POLL_US"));
    }

    [Fact]
    public void Inject_WorkloadsWithoutAPortOrWithABadName_AreAllNamedInOneError()
    {
        const string yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: worker, namespace: shop}\nspec:\n  template:\n    spec:\n"
            + "      containers:\n      - {name: worker, image: example/worker}\n---\n"
            + "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n  template:\n    metadata: {labels: {app: Log_Agent}}\n    spec:\n"
            + "      containers:\n      - {name: agent, image: example/agent, ports: [{containerPort: 15006}]}\n---\n"
            + "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  template:\n"
            + "    metadata: {annotations: {fedmesh.io/app-protocol: grpc, fedmesh.io/busy-poll-us: 5ms}}\n    spec:\n"
            + "      containers:\n      - {name: api, image: example/api, ports: [{containerPort: 9000}]}\n";

        var e = Assert.Throws<ArgumentException>(() => SidecarInjector.Inject(yaml, new InjectOptions { Cluster = "east" }));

        Assert.Contains("Deployment shop/worker: cannot tell which port the app listens on: its container 'worker' declares no containerPort", e.Message);
        Assert.Contains("DaemonSet agent: the service name 'Log_Agent' (from label app) is not valid", e.Message);
        Assert.Contains("DaemonSet agent: the containerPort 15006 of container 'agent' cannot be the app's port", e.Message);
        Assert.Contains("Deployment shop/api: the annotation fedmesh.io/app-protocol \"grpc\" is not one of auto, http1, http2", e.Message);
        Assert.Contains("Deployment shop/api: the annotation fedmesh.io/busy-poll-us \"5ms\" is not a busy-poll window: give whole microseconds from 0 (off) to 1000", e.Message);
    }

    private static string Inject(string yaml) => SidecarInjector.Inject(yaml, new InjectOptions { Cluster = "east" });

    /// <summary>The args with every <c>$(VAR)</c> replaced from the container's fieldRef env, as the kubelet expands them.</summary>
    private static List<string> Expand(JsonObject container)
    {
        var env = container["env"]!.AsArray().ToDictionary(
            e => e!["name"]!.GetValue<string>(),
            e => e!["value"]?.GetValue<string>() ?? PodFields[e["valueFrom"]!["fieldRef"]!["fieldPath"]!.GetValue<string>()]);
        return container["args"]!.AsArray().Select(a => Reference().Replace(a!.GetValue<string>(), m =>
            env.TryGetValue(m.Groups[1].Value, out var value) ? value : throw new Xunit.Sdk.XunitException($"$({m.Groups[1].Value}) is not in the container's env"))).ToList();
    }

    /// <summary>The value of the container's env variable <paramref name="name"/>, null when it has none.</summary>
    private static string? Env(JsonObject container, string name) =>
        container["env"]!.AsArray().FirstOrDefault(e => e!["name"]!.GetValue<string>() == name)?["value"]?.GetValue<string>();

    private static string MountedTokenPath(JsonObject pod, JsonObject container)
    {
        var volume = pod["volumes"]!.AsArray().Single(v => v!["name"]!.GetValue<string>() == InstallDefaults.TokenVolume)!;
        var mount = container["volumeMounts"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == InstallDefaults.TokenVolume)!;
        var source = volume["projected"]!["sources"]![0]!["serviceAccountToken"]!;
        Assert.Equal(InstallDefaults.TokenAudience, source["audience"]!.GetValue<string>());
        return mount["mountPath"]!.GetValue<string>() + "/" + source["path"]!.GetValue<string>();
    }

    private static async Task<int> AdminStatusAsync(string path)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        context.Response.Body = new MemoryStream();
        await new AdminHandler(new ReadinessGate(false, "http://127.0.0.1:8080", InstallDefaults.ControllerUrl)).HandleAsync(context);
        return context.Response.StatusCode;
    }

    private static string Value(List<string> args, string option)
    {
        var i = args.IndexOf(option);
        Assert.True(i >= 0 && i + 1 < args.Count, $"{option} is missing from the sidecar's args: {string.Join(' ', args)}");
        return args[i + 1];
    }

    private static JsonObject Pod(string yaml) =>
        ManifestYaml.Read(yaml).OfType<JsonObject>().Single(d => d["kind"]!.GetValue<string>() is "Deployment" or "StatefulSet" or "DaemonSet")["spec"]!["template"]!["spec"]!.AsObject();

    private static JsonObject Container(JsonObject pod, string name) =>
        pod[name == SidecarInjector.InitContainer ? "initContainers" : "containers"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == name)!.AsObject();

    private static string Example() => File.ReadAllText(Path.Combine(Schema.CrdSchemaTests.FindRepoRoot(), "examples", "kubernetes", "echo.yaml"));

    [GeneratedRegex(@"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex Reference();
}
