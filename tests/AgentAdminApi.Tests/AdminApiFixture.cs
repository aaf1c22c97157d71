using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentIdp.Core.Agents;

namespace AgentAdminApi.Tests;

/// <summary>An AuthServer and an admin API on one database of their own, and an admin holding every admin capability.</summary>
public class AdminApiFixture : IAsyncLifetime
{
    public TestData Data { get; private set; } = null!;
    public AuthServerFactory AuthServer { get; private set; } = null!;
    public AdminApiFactory AdminApi { get; private set; } = null!;
    /// <summary>Talks to the AuthServer: tokens, introspection, revocation.</summary>
    public HttpClient OAuth { get; private set; } = null!;
    /// <summary>Talks to the admin API as the admin.</summary>
    public HttpClient Admin { get; private set; } = null!;
    public Agent AdminAgent { get; private set; } = null!;

    protected virtual IReadOnlyDictionary<string, string?>? Settings => null;
    protected virtual string Environment => "Testing";

    public virtual async Task InitializeAsync()
    {
        var server = await PostgresServer.SharedAsync();
        Data = new TestData(await server.CreateDatabaseAsync());
        AuthServer = new AuthServerFactory(Data.ConnectionString);
        OAuth = AuthServer.CreateClient();
        AdminApi = new AdminApiFactory(Data.ConnectionString, AuthServer.Server.CreateHandler(), Settings, Environment);
        (AdminAgent, var credential) = await Data.CreateAgentWithCredentialAsync(AdminCapabilities.All);
        Admin = await ClientAsync(AdminAgent.Id, credential.ClientSecret);
    }

    /// <summary>An admin API client with a fresh token for the agent (all its capabilities, or <paramref name="scope"/>).</summary>
    public async Task<HttpClient> ClientAsync(Guid agentId, string secret, string? scope = null)
    {
        var client = AdminApi.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await OAuth.GetAccessTokenAsync(agentId.ToString(), secret, scope));
        return client;
    }

    /// <summary>
    /// A new agent with one credential (capabilities <c>invoices:read</c> unless given), and an admin API client
    /// acting as that agent with a token for <paramref name="scope"/>, or for all its capabilities without it.
    /// Self-service needs <c>scope: AdminCapabilities.AgentsSelf</c>: a token requested without scope never
    /// carries it, and one carrying only other APIs' scopes is not for the admin API at all.
    /// </summary>
    public async Task<(Agent Agent, string Secret, HttpClient Client)> AgentAsync(string[]? capabilities = null, string? scope = null)
    {
        var (agent, credential) = await Data.CreateAgentWithCredentialAsync(capabilities ?? ["invoices:read"]);
        return (agent, credential.ClientSecret, await ClientAsync(agent.Id, credential.ClientSecret, scope));
    }

    public async Task DisposeAsync()
    {
        Admin.Dispose();
        OAuth.Dispose();
        await AdminApi.DisposeAsync();
        await AuthServer.DisposeAsync();
    }
}
