using Aicp.Bench.Commands;
using Aicp.Bench.Roles;

// Each benchmark is one command class; this table is the only place that names them. The *-proc roles are
// the child processes the benchmarks start (hub, echo baseline, agents, load); they are not run by hand.
var commands = new Dictionary<string, Func<string[], Task<int>>>(StringComparer.Ordinal)
{
    ["routing-sim"] = RoutingSimCommand.RunAsync,
    ["pick-bench"] = PickBenchCommand.RunAsync,
    ["chaos"] = ChaosCommand.RunAsync,
    [E2eCommand.Name] = E2eCommand.RunAsync,
    [ConnectionsCommand.Name] = ConnectionsCommand.RunAsync,
    [FailoverCommand.Name] = FailoverCommand.RunAsync,
    [DispatchCostCommand.Name] = DispatchCostCommand.RunAsync,
    [HubRole.Name] = HubRole.RunAsync,
    [EchoHubRole.Name] = EchoHubRole.RunAsync,
    [AgentsRole.Name] = AgentsRole.RunAsync,
    [LoadRole.Name] = LoadRole.RunAsync,
};

if (args.Length == 0 || !commands.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"Usage: Aicp.Bench <{string.Join("|", commands.Keys.Where(k => !k.EndsWith("-proc", StringComparison.Ordinal)))}> [options]");
    return 2;
}

try
{
    return await run(args[1..]);
}
catch (Exception ex)
{
    // Children were already killed by the commands' `await using`; the exit-time hook catches any left.
    Console.Error.WriteLine($"{args[0]} failed: {ex.GetType().Name}: {ex.Message}");
    return 1;
}
