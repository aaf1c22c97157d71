using System.Net;
using AgentIdp.Core.Audit;
using AgentIdp.Testing;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Tests;

/// <summary>The audit writer runs in the background: PostgreSQL refusing part of its work must not stop it, or the process.</summary>
public sealed class AuditTrailFailureTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    [Fact]
    public async Task When_the_credentials_last_use_cannot_be_written_the_events_still_are_and_the_server_keeps_serving()
    {
        var (agent, credential) = await fixture.Data.CreateAgentWithCredentialAsync();
        await using (var db = fixture.Data.Open())
        {
            await db.Database.ExecuteSqlRawAsync("""
                CREATE FUNCTION refuse_credential_updates() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'simulated refusal'; END; $$;
                CREATE TRIGGER refuse_credential_updates BEFORE UPDATE ON credentials FOR EACH ROW EXECUTE FUNCTION refuse_credential_updates();
                """);
        }

        for (var round = 0; round < 3; round++)
        {
            using var response = await fixture.Client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await Task.Delay(300); // past a flush of the writer, which fails its batch and falls back
        }

        var issued = await TestData.EventuallyAsync(async () =>
        {
            await using var db = fixture.Data.Open();
            var count = await db.AuditEvents.CountAsync(e => e.AgentId == agent.Id && e.Action == AuditActions.TokenIssued);
            return count == 3 ? (object)count : null;
        });
        Assert.Equal(3, issued);
        await using (var db = fixture.Data.Open())
        {
            Assert.Null(await db.Credentials.Where(c => c.Id == credential.Credential.Id).Select(c => c.LastUsedAt).SingleAsync());
        }
        using var after = await fixture.Client.RequestTokenAsync(agent.Id.ToString(), credential.ClientSecret);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Contains("Recording the last use of", fixture.Factory.Logs.Text);
    }
}
