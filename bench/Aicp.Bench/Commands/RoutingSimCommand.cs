using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Aicp.Bench.Simulation;
using Aicp.Hub.Routing;

namespace Aicp.Bench.Commands;

/// <summary>
/// <c>routing-sim [--scenario A|B|C|D|E|H] [--json] [--seed N]</c>: runs every strategy and the oracle through the
/// routing simulation and checks the targets. Exit code 0 when every checked target passes, 1 otherwise.
/// </summary>
internal static class RoutingSimCommand
{
    private const string HedgedAdaptive = RoutingStrategyNames.Adaptive + "+hedging";

    private static readonly string[] LatencyAware =
        [RoutingStrategyNames.PerformanceBased, RoutingStrategyNames.Weighted, RoutingStrategyNames.Adaptive];

    public const string Name = "routing-sim";
    private static readonly Option<bool> Json = BenchOptions.Json();
    private static readonly Option<int> Seed = BenchOptions.Seed("Seed of the simulation", 20261121);
    private static readonly Option<string> Scenario = CreateScenarioOption();

    public static Command Create()
    {
        var command = new Command(Name, "Every strategy through the routing simulation, checked against the targets. " +
                                        "Exit code 0 when every checked target passes, 1 otherwise.")
        {
            Scenario, Json, Seed,
        };
        command.SetAction(parse => Run(parse));
        return command;
    }

    private static Option<string> CreateScenarioOption()
    {
        var names = RoutingScenario.All.Select(s => s.Name).ToArray();
        var option = new Option<string>("--scenario")
        {
            Description = "Run one scenario only (default: all)",
            HelpName = string.Join('|', names),
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is { } name && !names.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                result.AddError($"Unknown scenario '{name}'; known: {string.Join(", ", names)}.");
            }
        });
        return option;
    }

    private static int Run(ParseResult parse)
    {
        var json = parse.GetValue(Json);
        var seed = parse.GetValue(Seed);
        var only = parse.GetValue(Scenario);
        var scenarios = RoutingScenario.All.Where(s => only is null || string.Equals(s.Name, only, StringComparison.OrdinalIgnoreCase)).ToList();

        var results = new Dictionary<RoutingScenario, List<SimResult>>();
        var checks = new List<(string Target, bool Pass, string Detail)>();
        var clock = Stopwatch.StartNew();
        foreach (var scenario in scenarios)
        {
            var list = new List<SimResult>();
            foreach (var strategy in Strategies())
            {
                list.Add(new RoutingSimulation(scenario, strategy, seed).Run());
            }

            if (scenario.Hedged)
            {
                list.Add(new RoutingSimulation(scenario, new AdaptiveStrategy(), seed, hedging: true).Run());
            }

            results[scenario] = list;
            checks.AddRange(Check(scenario, list));
            if (!json)
            {
                PrintTable(scenario, list);
            }
        }

        var output = json ? Console.Error : Console.Out;
        if (json)
        {
            Console.Out.WriteLine(ToJson(results));
        }

        output.WriteLine();
        foreach (var (target, pass, detail) in checks)
        {
            output.WriteLine($"{(pass ? "PASS" : "FAIL")}  {target}: {detail}");
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"simulated in {clock.Elapsed.TotalSeconds:F1} s (seed {seed})"));
        return checks.All(c => c.Pass) ? 0 : 1;
    }

    /// <summary>Fresh instances of every built-in strategy, in a fixed order, then the oracle.</summary>
    private static IRoutingStrategy[] Strategies() =>
    [
        new RoundRobinStrategy(), new RandomStrategy(), new LeastLoadedStrategy(), new PowerOfTwoChoicesStrategy(),
        new TrustWeightedStrategy(), new WeightedStrategy(), new PerformanceBasedStrategy(), new AdaptiveStrategy(),
        new OracleStrategy(),
    ];

    private static IEnumerable<(string, bool, string)> Check(RoutingScenario scenario, List<SimResult> results)
    {
        SimResult Of(string name) => results.First(r => r.Strategy == name);
        var name = scenario.Name;
        var adaptive = Of(RoutingStrategyNames.Adaptive);
        if (scenario.Hedged)
        {
            var hedged = Of(HedgedAdaptive);
            yield return ($"{name} hedging cuts adaptive's p99 at least 2x", hedged.P99Ms <= 0.5 * adaptive.P99Ms,
                F($"{hedged.P99Ms:F1} ms with hedging vs {adaptive.P99Ms:F1} ms without ({adaptive.P99Ms / hedged.P99Ms:F2}x)"));
            yield return ($"{name} hedging costs <= 5% extra attempts", hedged.ExtraAttemptShare <= 0.05,
                F($"{hedged.ExtraAttemptShare:P2} extra attempts ({hedged.Hedges} hedges)"));
            yield break;
        }

        var oracle = Of(OracleStrategy.StrategyName);
        var bestOther = results.Where(r => r.Strategy is not (RoutingStrategyNames.Adaptive or OracleStrategy.StrategyName)).MinBy(r => r.P99Ms)!;
        yield return ($"{name} adaptive p99 <= 1.25x oracle p99", adaptive.P99Ms <= 1.25 * oracle.P99Ms,
            F($"{adaptive.P99Ms:F1} ms vs 1.25 x {oracle.P99Ms:F1} = {1.25 * oracle.P99Ms:F1} ms"));
        yield return ($"{name} adaptive p99 <= 1.1x the best other strategy's ({bestOther.Strategy})", adaptive.P99Ms <= 1.1 * bestOther.P99Ms,
            F($"{adaptive.P99Ms:F1} ms vs 1.1 x {bestOther.P99Ms:F1} = {1.1 * bestOther.P99Ms:F1} ms"));
        switch (name)
        {
            case "B":
                yield return ("B adaptive success >= 99.9%", adaptive.SuccessRate >= 0.999, F($"{adaptive.SuccessRate:P3}"));
                break;
            case "C":
                yield return ("C flaky agent's share < 5% by 30 s (adaptive, attempts in 25-30 s)", adaptive.WatchedShare < 0.05,
                    F($"{adaptive.WatchedShare:P2}"));
                break;
            case "D":
                var fair = 1.0 / scenario.Agents.Length;
                foreach (var strategy in LatencyAware)
                {
                    var r = Of(strategy);
                    yield return (F($"D {strategy}: largest share <= 1.5x fair ({1.5 * fair:P0})"), r.MaxShare <= 1.5 * fair,
                        F($"{r.MaxShare:P2} overall, {r.PeakWindowShare:P2} in the worst 1 s window"));
                }

                break;
            case "E":
                yield return ("E slow agent's share <= 1% (adaptive)", adaptive.WatchedShare <= 0.01, F($"{adaptive.WatchedShare:P2}"));
                break;
        }
    }

    private static void PrintTable(RoutingScenario scenario, List<SimResult> results)
    {
        Console.WriteLine();
        Console.WriteLine($"Scenario {scenario.Name}: {scenario.Description}");
        var extra = scenario.Name switch { "C" => "| flaky share 25-30 s ", "D" => "| worst 1 s share ", "E" => "| slow share ", "H" => "| extra attempts ", _ => "" };
        Console.WriteLine($"| strategy          |  p50 ms |  p99 ms |  success | max share {extra}|");
        Console.WriteLine($"|-------------------|--------:|--------:|---------:|----------:{(extra.Length > 0 ? "|" + new string('-', extra.Length - 3) + ":" : "")}|");
        foreach (var r in results)
        {
            var column = scenario.Name switch
            {
                "C" => F($"| {r.WatchedShare,19:P2} "),
                "D" => F($"| {r.PeakWindowShare,15:P2} "),
                "E" => F($"| {r.WatchedShare,10:P2} "),
                "H" => F($"| {r.ExtraAttemptShare,14:P2} "),
                _ => "",
            };
            Console.WriteLine(F($"| {r.Strategy,-17} | {r.P50Ms,7:F1} | {r.P99Ms,7:F1} | {r.SuccessRate,8:P2} | {r.MaxShare,9:P2} {column}|"));
        }
    }

    private static string ToJson(Dictionary<RoutingScenario, List<SimResult>> results)
    {
        var root = new Dictionary<string, Dictionary<string, Dictionary<string, double>>>();
        foreach (var (scenario, list) in results)
        {
            var byStrategy = new Dictionary<string, Dictionary<string, double>>();
            foreach (var r in list)
            {
                var fields = new Dictionary<string, double>
                {
                    ["p50Ms"] = Math.Round(r.P50Ms, 3), ["p99Ms"] = Math.Round(r.P99Ms, 3),
                    ["successRate"] = Math.Round(r.SuccessRate, 6), ["maxShare"] = Math.Round(r.MaxShare, 6),
                };
                if (scenario.WatchKey is { } key)
                {
                    fields[key] = Math.Round(r.WatchedShare, 6);
                }

                if (scenario.Name == "D")
                {
                    fields["worstWindowShare"] = Math.Round(r.PeakWindowShare, 6);
                }

                if (scenario.Hedged)
                {
                    fields["extraAttemptShare"] = Math.Round(r.ExtraAttemptShare, 6);
                    fields["hedges"] = r.Hedges;
                }

                byStrategy[r.Strategy] = fields;
            }

            root[scenario.Name] = byStrategy;
        }

        return JsonSerializer.Serialize(root);
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
