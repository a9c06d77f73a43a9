# FedMesh controller image: the fedmesh binary, started as `fedmesh component controller`.
# Build from the repository root:  docker build -f deploy/docker/controller.Dockerfile -t ghcr.io/fedmesh/controller:0.1.0 .
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

WORKDIR /app
COPY --from=build /out/ ./
USER 2102
ENTRYPOINT ["dotnet", "/app/fedmesh.dll", "component", "controller"]
