using AgentIdp.Core.Configuration;
using AgentIdp.Core.Health;
using AgentIdp.Core.Hosting;
using AgentIdp.Core.Logging;
using AgentIdp.Core.Persistence;
using AgentIdp.Core.Secrets;
using AgentIdp.Core.Telemetry;
using AuthServer.Audit;
using AuthServer.SigningKeys;
using AuthServer.Tokens;
using AuthServer.Tokens.ClientAuthentication;
using AuthServer.Tokens.Revocation;

// Settings files are read from beside the assembly, wherever the process is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddSettingsFiles(); // SETTINGS_DIR: settings as files, such as the ones Vault Agent renders

builder.Services.AddAgentIdpDatabase(builder.Configuration);
builder.Services.AddAgentSecrets(builder.Configuration);
builder.Services.AddSigningKeys(builder.Configuration);
builder.Services.AddAgentOAuthServer(builder.Configuration);
builder.Services.AddClientLockout(builder.Configuration);
builder.Services.AddRevokedTokenPurge();
builder.Services.AddAuditTrail();
builder.Services.AddTokenSafeLogging();
builder.AddAgentIdpTelemetry("agentidp-authserver");
builder.Services.AddAgentIdpHealthChecks();
builder.Services.AddGracefulShutdown(builder.Configuration);

var app = builder.Build();

app.UseOAuthErrorResponses();
app.UseOAuthRequestGuard();
app.UseColdRequestShedding();
app.UseAuthentication(); // OpenIddict answers its endpoints from here
app.MapHealthEndpoints();
app.MapMetricsEndpoint();

return app.RunOrExplain();
