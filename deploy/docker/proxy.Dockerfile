# FedMesh proxy image: the fedmesh binary, started as `fedmesh component proxy`.
# Build from the repository root:  docker build -f deploy/docker/proxy.Dockerfile -t ghcr.io/fedmesh/proxy:0.1.0 .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props FedMesh.sln ./
COPY core/ core/
COPY gateway/ gateway/
COPY proxy/ proxy/
COPY mirror-controller/ mirror-controller/
COPY examples/echo/ examples/echo/
COPY examples/local/ examples/local/
COPY linker/ linker/
RUN dotnet publish linker/FedMesh.Linker.csproj -c Release -o /out --no-self-contained

FROM mcr.microsoft.com/dotnet/aspnet:10.0
# The init container runs this image as root with NET_ADMIN to set the iptables redirect.
RUN apt-get update && apt-get install -y --no-install-recommends iptables && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /out/ ./
# Data-plane runtime settings, the same as the local federation's (linker/Local/DataPlaneEnvironment.cs);
# measured with bench/dataplane/run.sh.
ENV DOTNET_gcServer=0 \
    DOTNET_gcConcurrent=0 \
    DOTNET_GCgen0size=0x400000 \
    DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 \
    DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0
USER 2102
ENTRYPOINT ["dotnet", "/app/fedmesh.dll", "component", "proxy"]
