using Aicp.SampleAgents.Cli;

// The commands and their options are declared in Cli/SampleAgentsCli.cs; `--help` lists them.
return await SampleAgentsCli.InvokeAsync(args);
