using AgentAdminApi.Agents;
using AgentAdminApi.Audit;
using AgentAdminApi.Credentials;
using AgentAdminApi.Errors;
using AgentAdminApi.OpenApi;
using AgentAdminApi.Paging;
using AgentAdminApi.RateLimiting;
using AgentAdminApi.Security;
using AgentIdp.Core.Configuration;
using AgentIdp.Core.Health;
using AgentIdp.Core.Hosting;
using AgentIdp.Core.Logging;
using AgentIdp.Core.Persistence;
using AgentIdp.Core.Secrets;
using AgentIdp.Core.Telemetry;

// Settings files are read from beside the assembly, wherever the process is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddSettingsFiles(); // SETTINGS_DIR: settings as files, such as the ones Vault Agent renders

builder.Services.AddAgentIdpDatabase(builder.Configuration);
builder.Services.AddAgentSecrets(builder.Configuration);
builder.Services.AddVaultCleanupPass(builder.Configuration);
builder.Services.AddAgentTokenAuthentication(builder.Configuration);
builder.Services.AddAgentCapabilities();
builder.Services.AddPerCallerRateLimit(builder.Configuration);
builder.Services.AddProblemResponses();
builder.Services.AddPageCursors();
builder.Services.AddAdminAudit(builder.Configuration);
builder.Services.AddAdminApiDocument();
builder.Services.AddTokenSafeLogging();
builder.AddAgentIdpTelemetry("agentidp-admin-api");
builder.Services.AddAgentIdpHealthChecks();
builder.Services.AddGracefulShutdown(builder.Configuration);

var app = builder.Build();

app.UseProblemResponses();
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();

app.MapHealthEndpoints();
app.MapMetricsEndpoint();
app.MapAdminApiDocument();
app.MapAgents();
app.MapCredentials();
app.MapAudit();

return app.RunOrExplain();
