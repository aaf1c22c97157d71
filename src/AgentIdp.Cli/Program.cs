using AgentIdp.Cli;

return await AgentIdpCommand.RunAsync(args);
