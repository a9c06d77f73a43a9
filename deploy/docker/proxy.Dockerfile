# FedMesh proxy image: the native data plane (deploy/dataplane, compiled ahead of time), started as
# `fedmesh-dataplane proxy` with the options `fedmesh component proxy` takes. No .NET runtime in the image;
# less than half the JIT proxy's memory.
# Build from the repository root:  docker build -f deploy/docker/proxy.Dockerfile -t ghcr.io/fedmesh/proxy:0.1.0 .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# NativeAOT links with the platform toolchain.
RUN apt-get update && apt-get install -y --no-install-recommends clang zlib1g-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props ./
COPY core/ core/
COPY proxy/ proxy/
COPY gateway/ gateway/
COPY deploy/dataplane/ deploy/dataplane/
RUN dotnet publish deploy/dataplane -c Release -o /out

FROM mcr.microsoft.com/dotnet/runtime-deps:10.0
# The init container runs this image as root with NET_ADMIN to set the iptables redirect (/bin/sh -c "iptables ...").
RUN apt-get update && apt-get install -y --no-install-recommends iptables && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /out/fedmesh-dataplane ./
# Data-plane runtime settings, the same as the local federation's (linker/Local/DataPlaneEnvironment.cs);
# measured with bench/dataplane/run.sh.
ENV DOTNET_gcServer=0 \
    DOTNET_gcConcurrent=0 \
    DOTNET_GCgen0size=400000 \
    DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 \
    DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0
USER 2102
ENTRYPOINT ["/app/fedmesh-dataplane", "proxy"]
