// fedmesh-proxy: the same proxy `fedmesh component proxy` runs, as a native executable.
return await FedMesh.Proxy.ProxyHost.RunAsync(args, CancellationToken.None).ConfigureAwait(false);
