using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentIdp.Testing;

namespace AuthServer.Tests;

/// <summary>An AuthServer on a database of its own, shared by the tests of one class.</summary>
public class AuthServerFixture : IAsyncLifetime
{
    public AuthServerFactory Factory { get; private set; } = null!;
    public TestData Data { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;

    protected virtual IReadOnlyDictionary<string, string?>? Settings => null;
    protected virtual TimeProvider? Time => null;

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.SharedAsync();
        Data = new TestData(await server.CreateDatabaseAsync());
        Factory = new AuthServerFactory(Data.ConnectionString, Settings, Time);
        Client = CreateClient();
    }

    public virtual HttpClient CreateClient() => Factory.CreateClient();

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
    }
}

