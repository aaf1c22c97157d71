using System.CommandLine;
using System.Text.Json;
using AgentIdp.Core.Agents;
using AgentIdp.Core.Audit;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentIdp.Cli;

/// <summary>
/// <c>agentidp bootstrap-admin --email E --owner O</c>: creates the admin agent if there is none with that
/// e-mail, gives it a new credential and prints <c>{"agentId", "clientId", "clientSecret"}</c>, the only
/// time the secret is shown. Running it again issues another credential to the same agent.
/// </summary>
internal static class BootstrapAdminCommand
{
    /// <summary>Transaction-level advisory lock: concurrent bootstraps create one agent ("AIDPBOOT").</summary>
    private const long BootstrapLockKey = 0x4149_4450_424F_4F54;

    public static Command Create(CommandContext context)
    {
        var email = new Option<string>("--email") { Description = "The admin agent's e-mail address.", Required = true };
        var owner = new Option<string>("--owner") { Description = "The team or person that owns the admin agent (1-128 characters).", Required = true };
        var environment = new Option<DeploymentEnvironment>("--deployment-env")
        {
            Description = "development, staging or production.",
            DefaultValueFactory = _ => DeploymentEnvironment.Production,
        };
        var command = new Command("bootstrap-admin", "Create the admin agent if absent, issue it a credential and print it as JSON.")
        {
            email, owner, environment,
        };
        command.SetAction((parse, cancellationToken) => CommandContext.RunAsync(parse, [typeof(CredentialLimitOptions)], async (services, output, ct) =>
        {
            var result = await BootstrapAsync(
                services.GetRequiredService<AgentIdpDbContext>(),
                services.GetRequiredService<CredentialLifecycle>(),
                services.GetRequiredService<IAuditLog>(),
                services.GetRequiredService<TimeProvider>(),
                parse.GetValue(email)!, parse.GetValue(owner)!, parse.GetValue(environment), ct);
            await output.WriteLineAsync(JsonSerializer.Serialize(result, JsonSerializerOptions.Web));
            return 0;
        }, context, cancellationToken));
        return command;
    }

    public sealed record BootstrapResult(Guid AgentId, string ClientId, string ClientSecret);

    private static async Task<BootstrapResult> BootstrapAsync(
        AgentIdpDbContext db, CredentialLifecycle lifecycle, IAuditLog audit, TimeProvider time,
        string email, string owner, DeploymentEnvironment environment, CancellationToken cancellationToken)
    {
        if (!AgentRules.IsValidEmail(email))
        {
            throw new CommandException("--email must be a valid e-mail address.");
        }
        if (!AgentRules.IsValidOwner(owner))
        {
            throw new CommandException($"--owner must be 1 to {AgentRules.MaxOwnerLength} characters.");
        }

        var agentId = await EnsureAdminAsync(db, audit, time, email, owner, environment, cancellationToken);
        var change = await lifecycle.GenerateAsync(agentId, expiresAt: null, cancellationToken);
        if (change.Result is not { } issued)
        {
            throw new CommandException(change.Refusal == CredentialRefusal.CredentialLimitReached
                ? $"The admin agent {agentId} already holds the most active credentials allowed (MAX_ACTIVE_CREDENTIALS_PER_AGENT): revoke one first."
                : $"The admin agent {agentId} was decommissioned before it could be given a credential.");
        }
        return new BootstrapResult(agentId, agentId.ToString(), issued.ClientSecret);
    }

    /// <summary>
    /// Creates the admin agent, or restores the admin capabilities it lacks, and commits; one bootstrap at a
    /// time (an advisory lock), so concurrent ones create one agent. Its credential is issued after, by the
    /// credential lifecycle: if that fails, running the command again issues one to the same agent.
    /// </summary>
    private static async Task<Guid> EnsureAdminAsync(
        AgentIdpDbContext db, IAuditLog audit, TimeProvider time,
        string email, string owner, DeploymentEnvironment environment, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({BootstrapLockKey})", cancellationToken);
        var now = time.GetUtcNow();
        var agent = await db.Agents.WithEmail(email).SingleOrDefaultAsync(cancellationToken);
        if (agent is null)
        {
            agent = new Agent
            {
                Id = Guid.NewGuid(),
                Email = email,
                AgentType = AgentType.Custom,
                Version = "1.0.0",
                Capabilities = [.. AdminCapabilities.All],
                Owner = owner,
                DeploymentEnv = environment,
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.Agents.Add(agent);
            audit.Record(AuditActions.AgentCreated, agent.Id, new { email, capabilities = agent.Capabilities });
        }
        else if (agent.Status != AgentStatus.Active)
        {
            throw new CommandException(
                $"The agent {agent.Id} with that e-mail is {agent.Status.ToString().ToLowerInvariant()}; bootstrap another admin with a different --email.");
        }
        else if (AdminCapabilities.All.Except(agent.Capabilities).ToList() is { Count: > 0 } missing)
        {
            agent.Capabilities = [.. agent.Capabilities, .. missing];
            agent.UpdatedAt = now;
            audit.Record(AuditActions.AgentUpdated, agent.Id, new { addedCapabilities = missing });
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return agent.Id;
    }
}
