# AgentIdP's container images, one target each, built from the repository's root:
#
#   docker build --target authserver -t agentidp/authserver:TAG .
#   docker build --target admin-api  -t agentidp/admin-api:TAG .
#
# One build stage compiles all three programs once; each image takes its part. The AuthServer image also
# holds the operator command (`dotnet /app/agentidp/agentidp.dll migrate`), so the migration Job runs the
# migrations of exactly the version it is about to deploy, and no third image has to be built and tagged.
#
# Runtime: ASP.NET Core on Ubuntu chiseled: no shell, no package manager, runs as the non-root user
# `app` (UID 1654). The projects build with InvariantGlobalization (Directory.Build.props) and keep
# every time in UTC, so neither ICU nor tzdata is needed and the plain chiseled image (not -extra) does.
# Nothing is written outside /tmp: run with a read-only root filesystem and an emptyDir on /tmp, where
# .NET keeps its diagnostics socket (so dotnet-counters and dotnet-trace still attach).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files alone, so that a source change does not fetch the packages again.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/AgentIdp.Core/AgentIdp.Core.csproj src/AgentIdp.Core/
COPY src/AuthServer/AuthServer.csproj src/AuthServer/
COPY src/AgentAdminApi/AgentAdminApi.csproj src/AgentAdminApi/
COPY src/AgentIdp.Cli/AgentIdp.Cli.csproj src/AgentIdp.Cli/
RUN dotnet restore src/AuthServer/AuthServer.csproj \
 && dotnet restore src/AgentAdminApi/AgentAdminApi.csproj \
 && dotnet restore src/AgentIdp.Cli/AgentIdp.Cli.csproj
COPY src/ src/
# Framework-dependent, without an apphost: started as `dotnet X.dll`, the same files serve any CPU.
RUN dotnet publish src/AuthServer/AuthServer.csproj -c Release --no-restore -p:UseAppHost=false -o /out/authserver \
 && dotnet publish src/AgentIdp.Cli/AgentIdp.Cli.csproj -c Release --no-restore -p:UseAppHost=false -o /out/authserver/agentidp \
 && dotnet publish src/AgentAdminApi/AgentAdminApi.csproj -c Release --no-restore -p:UseAppHost=false -o /out/admin-api

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS authserver
WORKDIR /app
COPY --from=build /out/authserver /app
ENV ASPNETCORE_HTTP_PORTS=8080
EXPOSE 8080
# The chiseled images' `app` user, by number so that Kubernetes' runAsNonRoot can check it.
USER 1654
ENTRYPOINT ["dotnet", "/app/AuthServer.dll"]

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS admin-api
WORKDIR /app
COPY --from=build /out/admin-api /app
ENV ASPNETCORE_HTTP_PORTS=8080
EXPOSE 8080
USER 1654
ENTRYPOINT ["dotnet", "/app/AgentAdminApi.dll"]
