using System.CommandLine;
using Aicp.Bench.Commands;
using Aicp.Bench.Roles;

// Each benchmark is one command class; this root is the only place that names them. The *-proc roles are
// the child processes the benchmarks start (hub, echo baseline, agents, load); they are hidden and not run by hand.
var root = new RootCommand("AICP Hub benchmarks, the routing simulator and the chaos run. `<command> --help` lists a command's options.")
{
    RoutingSimCommand.Create(),
    PickBenchCommand.Create(),
    ChaosCommand.Create(),
    ClusterCostCommand.Create(),
    ClusterHerdingCommand.Create(),
    ClusterThroughputCommand.Create(),
    ClusterMemoryCommand.Create(),
    E2eCommand.Create(),
    ConnectionsCommand.Create(),
    FailoverCommand.Create(),
    DispatchCostCommand.Create(),
    DashboardCostCommand.Create(),
    BenchCli.Role(HubRole.Name, HubRole.RunAsync),
    BenchCli.Role(EchoHubRole.Name, EchoHubRole.RunAsync),
    AgentsRole.Create(),
    LoadRole.Create(),
};

return await BenchCli.InvokeAsync(root, args);
