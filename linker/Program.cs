using FedMesh.Linker;

return await FedMeshCli.RunAsync(args);
