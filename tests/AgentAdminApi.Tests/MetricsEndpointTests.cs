using System.Net;

namespace AgentAdminApi.Tests;

public sealed class MetricsEndpointTests
{
    public sealed class PrometheusFixture : AdminApiFixture
    {
        protected override IReadOnlyDictionary<string, string?>? Settings => new Dictionary<string, string?>
        {
            ["METRICS_PROMETHEUS"] = "true",
            ["ADMIN_RATE_LIMIT_PER_MINUTE"] = "1",
        };
    }

    public sealed class WithPrometheus(PrometheusFixture fixture) : IClassFixture<PrometheusFixture>
    {
        [Fact]
        public async Task The_admin_API_serves_its_metrics_without_a_token_and_outside_the_rate_limit()
        {
            using var anonymous = fixture.AdminApi.CreateClient();
            for (var i = 0; i < 3; i++)
            {
                using var response = await anonymous.GetAsync("/metrics");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
                Assert.Contains("# TYPE", await response.Content.ReadAsStringAsync());
            }
        }
    }

    public sealed class WithoutPrometheus(AdminApiFixture fixture) : IClassFixture<AdminApiFixture>
    {
        [Fact]
        public async Task There_is_no_metrics_endpoint()
        {
            using var response = await fixture.Admin.GetAsync("/metrics");

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }
}
