using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace AgentAdminApi.Tests;

public sealed class ListingTests(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
{
    private HttpClient Admin => fixture.Admin;

    private async Task<(List<string> Ids, string? Next)> PageAsync(string query)
    {
        using var response = await Admin.GetAsync("/api/v1/agents" + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.JsonAsync();
        var next = page.GetProperty("nextCursor");
        return ([.. page.GetProperty("data").EnumerateArray().Select(a => a.GetProperty("agentId").GetString()!)],
            next.ValueKind == JsonValueKind.Null ? null : next.GetString());
    }

    [Fact]
    public async Task Paging_through_more_rows_than_a_page_with_inserts_between_pages_skips_and_repeats_nothing()
    {
        var owner = $"paging-{Guid.NewGuid():N}";
        var before = new List<string>();
        for (var i = 0; i < 25; i++)
        {
            before.Add((await Admin.RegisterAsync(AdminApiRequests.NewAgent(owner: owner))).GetProperty("agentId").GetString()!);
        }

        var seen = new List<string>();
        var inserted = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var (ids, next) = await PageAsync($"?owner={owner}&limit=7" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"));
            seen.AddRange(ids);
            cursor = next;
            pages++;
            // Someone registers more agents while we page: newer than anything left to read, so they do not disturb it.
            inserted.Add((await Admin.RegisterAsync(AdminApiRequests.NewAgent(owner: owner))).GetProperty("agentId").GetString()!);
        }
        while (cursor is not null);

        Assert.Equal(4, pages);
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Equal(Enumerable.Reverse(before), seen); // newest first, every row present before paging began, once
        Assert.Empty(seen.Intersect(inserted));
        var (fresh, _) = await PageAsync($"?owner={owner}&limit=200");
        Assert.Equal(before.Count + inserted.Count, fresh.Count);
    }

    [Fact]
    public async Task Filters_select_by_status_type_owner_and_environment()
    {
        var owner = $"filters-{Guid.NewGuid():N}";
        var router = (await Admin.RegisterAsync(AdminApiRequests.NewAgent(owner: owner, agentType: "router", deploymentEnv: "staging"))).GetProperty("agentId").GetString()!;
        var monitor = (await Admin.RegisterAsync(AdminApiRequests.NewAgent(owner: owner, agentType: "monitor", deploymentEnv: "production"))).GetProperty("agentId").GetString()!;
        using (await Admin.PatchAsJsonAsync($"/api/v1/agents/{monitor}", new { status = "suspended" })) { }

        Assert.Equal([router], (await PageAsync($"?owner={owner}&agentType=router")).Ids);
        Assert.Equal([monitor], (await PageAsync($"?owner={owner}&deploymentEnv=production")).Ids);
        Assert.Equal([monitor], (await PageAsync($"?owner={owner}&status=suspended")).Ids);
        Assert.Equal([router], (await PageAsync($"?owner={owner}&status=active&deploymentEnv=staging")).Ids);
        Assert.Empty((await PageAsync($"?owner={owner}&status=decommissioned")).Ids);
        Assert.Equal([monitor, router], (await PageAsync($"?owner={owner}")).Ids);
    }

    [Fact]
    public async Task The_default_page_is_50_and_the_last_page_has_no_cursor()
    {
        var owner = $"default-{Guid.NewGuid():N}";
        for (var i = 0; i < 51; i++)
        {
            await Admin.RegisterAsync(AdminApiRequests.NewAgent(owner: owner));
        }

        var (first, next) = await PageAsync($"?owner={owner}");
        var (second, last) = await PageAsync($"?owner={owner}&cursor={Uri.EscapeDataString(next!)}");

        Assert.Equal(50, first.Count);
        Assert.Single(second);
        Assert.Null(last);
    }

    [Theory]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=201", "limit")]
    [InlineData("?limit=ten", "limit")]
    [InlineData("?limit=-5", "limit")]
    [InlineData("?status=gone", "status")]
    [InlineData("?agentType=wizard", "agentType")]
    [InlineData("?deploymentEnv=moon", "deploymentEnv")]
    [InlineData("?cursor=not-a-cursor", "cursor")]
    [InlineData("?owner=team%00x", "owner")]
    public async Task Bad_list_parameters_are_validation_errors(string query, string field)
    {
        using var response = await Admin.GetAsync("/api/v1/agents" + query);

        Assert.Equal([field], await response.ValidationErrorsAsync());
    }

    [Fact]
    public async Task A_cursor_cannot_be_carried_over_to_another_filter_or_tampered_with()
    {
        var owner = $"cursor-{Guid.NewGuid():N}";
        for (var i = 0; i < 3; i++)
        {
            await Admin.RegisterAsync(AdminApiRequests.NewAgent(owner: owner));
        }
        var (_, cursor) = await PageAsync($"?owner={owner}&limit=1");
        Assert.NotNull(cursor);

        using var otherFilter = await Admin.GetAsync($"/api/v1/agents?owner={owner}&status=active&limit=1&cursor={Uri.EscapeDataString(cursor)}");
        using var otherList = await Admin.GetAsync($"/api/v1/audit?limit=1&cursor={Uri.EscapeDataString(cursor)}");
        var tampered = cursor[..^2] + (cursor[^2] == 'A' ? "B" : "A") + cursor[^1];
        using var forged = await Admin.GetAsync($"/api/v1/agents?owner={owner}&limit=1&cursor={Uri.EscapeDataString(tampered)}");

        Assert.Equal(["cursor"], await otherFilter.ValidationErrorsAsync());
        Assert.Equal(["cursor"], await otherList.ValidationErrorsAsync());
        Assert.Equal(["cursor"], await forged.ValidationErrorsAsync());
        // The page size may change between pages: it is not part of the filter.
        using var biggerPage = await Admin.GetAsync($"/api/v1/agents?owner={owner}&limit=10&cursor={Uri.EscapeDataString(cursor)}");
        Assert.Equal(2, (await biggerPage.JsonAsync()).GetProperty("data").GetArrayLength());
    }
}
