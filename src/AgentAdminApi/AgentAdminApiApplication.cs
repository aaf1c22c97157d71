namespace AgentAdminApi;

/// <summary>Names this assembly's entry point for WebApplicationFactory in the tests.</summary>
public sealed class AgentAdminApiApplication;
