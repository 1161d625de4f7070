using Aicp.Bench.Commands;

// Each benchmark is one command class; this table is the only place that names them.
var commands = new Dictionary<string, Func<string[], Task<int>>>(StringComparer.Ordinal)
{
    ["routing-sim"] = RoutingSimCommand.RunAsync,
    ["pick-bench"] = PickBenchCommand.RunAsync,
    ["chaos"] = ChaosCommand.RunAsync,
};

if (args.Length == 0 || !commands.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"Usage: Aicp.Bench <{string.Join("|", commands.Keys)}> [options]");
    return 2;
}

return await run(args[1..]);
