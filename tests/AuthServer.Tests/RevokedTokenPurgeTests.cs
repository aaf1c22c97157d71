using System.Net;
using System.Text.Json;
using AgentIdp.Core.Audit;
using AgentIdp.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Npgsql;

namespace AuthServer.Tests;

public sealed class RevokedTokenPurgeTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    [Fact]
    public async Task Revocations_of_expired_tokens_are_forgotten_and_live_ones_kept()
    {
        await using (var db = fixture.Data.Open())
        {
            db.RevokedTokens.Add(new AgentIdp.Core.Tokens.RevokedToken { TokenId = "expired", RevokedAt = DateTimeOffset.UtcNow.AddHours(-2), ExpiresAt = DateTimeOffset.UtcNow.AddHours(-1) });
            db.RevokedTokens.Add(new AgentIdp.Core.Tokens.RevokedToken { TokenId = "live", RevokedAt = DateTimeOffset.UtcNow, ExpiresAt = DateTimeOffset.UtcNow.AddHours(1) });
            await db.SaveChangesAsync();
        }

        var purged = await fixture.Factory.Services.GetRequiredService<AuthServer.Tokens.Revocation.RevokedTokenPurge>().PurgeAsync(CancellationToken.None);

        Assert.Equal(1, purged);
        await using var check = fixture.Data.Open();
        Assert.Equal(["live"], await check.RevokedTokens.Select(r => r.TokenId).ToListAsync());
    }
}
