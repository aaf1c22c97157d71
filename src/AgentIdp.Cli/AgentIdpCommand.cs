using System.CommandLine;
using AgentIdp.Core.Configuration;
using AgentIdp.Core.Credentials;
using AgentIdp.Core.Persistence;
using AgentIdp.Core.Secrets;
using AgentIdp.Core.SigningKeys;
using AgentIdp.Core.Tokens;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentIdp.Cli;

/// <summary>
/// <c>agentidp</c>, the operator command. Configuration comes from the environment (DATABASE_URL,
/// BCRYPT_COST, VAULT_*; the <c>keys</c> commands also the AuthServer's SIGNING_* and ACCESS_TOKEN_LIFETIME),
/// as for the services. Results go to standard output, diagnostics to standard error.
/// </summary>
public static class AgentIdpCommand
{
    public const int ConfigurationError = 2;
    public const int OperationFailed = 1;
    /// <summary><c>audit verify</c> found the chain broken: not a failure to check, a finding.</summary>
    public const int AuditChainBroken = 3;

    public static Task<int> RunAsync(
        string[] args,
        IReadOnlyDictionary<string, string?>? configuration = null,
        TextWriter? output = null,
        TextWriter? error = null,
        CancellationToken cancellationToken = default)
    {
        var context = new CommandContext(configuration);
        var root = new RootCommand("AgentIdP operator commands.")
        {
            MigrateCommand.Create(context),
            BootstrapAdminCommand.Create(context),
            KeysCommand.Create(context),
            AuditCommand.Create(context),
        };
        var invocation = new InvocationConfiguration();
        if (output is not null)
        {
            invocation.Output = output;
        }
        if (error is not null)
        {
            invocation.Error = error;
        }
        return root.Parse(args).InvokeAsync(invocation, cancellationToken);
    }
}

/// <summary>Builds the services a command needs, from the environment and any overrides (the tests' way in).</summary>
internal sealed class CommandContext(IReadOnlyDictionary<string, string?>? overrides)
{
    public ServiceProvider BuildServices()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddEnvironmentVariables();
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }
        builder.Configuration.AddSettingsFiles();
        builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // EF Core logs as errors the queries a first migration expects to fail (no history table yet);
        // real failures reach the operator as this command's own one-line message.
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Critical);
        builder.Services.AddAgentIdpDatabase(builder.Configuration);
        builder.Services.AddAgentSecrets(builder.Configuration);
        builder.Services.AddCredentialLifecycle<CommandAudit>(builder.Configuration);
        builder.Services.AddOptions<AccessTokenOptions>().Bind(builder.Configuration).ValidateSettings();
        builder.Services.AddSigningKeyLifecycle(builder.Configuration);
        return builder.Services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    /// <summary>Runs a command's work; a bad setting is reported by name with exit code 2, not as a stack trace.</summary>
    public static Task<int> RunAsync(ParseResult parse, Func<IServiceProvider, TextWriter, CancellationToken, Task<int>> work,
        CommandContext context, CancellationToken cancellationToken) =>
        RunAsync(parse, [], work, context, cancellationToken);

    /// <param name="settings">The options the command reads beyond DATABASE_URL, BCRYPT_COST and VAULT_*: checked with those before it runs.</param>
    public static async Task<int> RunAsync(ParseResult parse, IReadOnlyList<Type> settings,
        Func<IServiceProvider, TextWriter, CancellationToken, Task<int>> work, CommandContext context, CancellationToken cancellationToken)
    {
        var error = parse.InvocationConfiguration.Error;
        try
        {
            await using var services = context.BuildServices();
            ValidateOptions(services, settings);
            await using var scope = services.CreateAsyncScope();
            return await work(scope.ServiceProvider, parse.InvocationConfiguration.Output, cancellationToken);
        }
        catch (OptionsValidationException e)
        {
            await error.WriteLineAsync($"agentidp: {string.Join(" ", e.Failures)}");
            return AgentIdpCommand.ConfigurationError;
        }
        catch (CommandException e)
        {
            await error.WriteLineAsync($"agentidp: {e.Message}");
            return AgentIdpCommand.OperationFailed;
        }
        catch (AgentIdp.Core.Vault.VaultException e)
        {
            await error.WriteLineAsync($"agentidp: Vault: {e.Message}");
            return AgentIdpCommand.OperationFailed;
        }
        catch (Npgsql.NpgsqlException e)
        {
            await error.WriteLineAsync($"agentidp: PostgreSQL: {e.Message}");
            return AgentIdpCommand.OperationFailed;
        }
    }

    private static void ValidateOptions(IServiceProvider services, IReadOnlyList<Type> settings)
    {
        _ = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        _ = services.GetRequiredService<IOptions<AgentIdp.Core.Secrets.SecretHashingOptions>>().Value;
        _ = services.GetRequiredService<IOptions<AgentIdp.Core.Vault.VaultOptions>>().Value;
        foreach (var type in settings)
        {
            // IOptions<T> is covariant: reading Value validates the options whatever T is.
            _ = ((IOptions<object>)services.GetRequiredService(typeof(IOptions<>).MakeGenericType(type))).Value;
        }
    }
}

/// <summary>A command failed for a reason the operator can act on; its message says which.</summary>
internal sealed class CommandException(string message) : Exception(message);
