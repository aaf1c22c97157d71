using AgentIdp.Bench;

return await BenchCommand.RunAsync(args);
