// fedmesh-dataplane: `fedmesh-dataplane proxy ARGS` and `fedmesh-dataplane gateway ARGS` run what
// `fedmesh component proxy|gateway ARGS` run, compiled ahead of time.
using System.Runtime.InteropServices;

if (args.Length == 0 || args[0] is not ("proxy" or "gateway"))
{
    Console.Error.WriteLine("usage: fedmesh-dataplane proxy|gateway [--Option value ...]; the options are those of `fedmesh component proxy|gateway`");
    return 2;
}
using var stop = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
return args[0] == "proxy"
    ? await FedMesh.Proxy.ProxyHost.RunAsync(args[1..], stop.Token).ConfigureAwait(false)
    : await FedMesh.Gateway.GatewayHost.RunAsync(args[1..], stop.Token).ConfigureAwait(false);
