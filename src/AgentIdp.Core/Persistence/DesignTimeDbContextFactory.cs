using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace AgentIdp.Core.Persistence;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without starting a service.</summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<AgentIdpDbContext>
{
    public AgentIdpDbContext CreateDbContext(string[] args)
    {
        var url = Environment.GetEnvironmentVariable("DATABASE_URL") ?? "Host=localhost;Database=agentidp_design";
        var options = new DbContextOptionsBuilder<AgentIdpDbContext>();
        options.UseAgentIdpDatabase(DatabaseUrl.ToConnectionString(url));
        return new AgentIdpDbContext(options.Options);
    }
}
