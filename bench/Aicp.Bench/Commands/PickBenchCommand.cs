using System.CommandLine;
using Aicp.Bench.Routing;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace Aicp.Bench.Commands;

/// <summary>
/// <c>pick-bench [BenchmarkDotNet args, e.g. --filter *Adaptive*]</c>: the cost of one routing decision with
/// 10, 100 and 1,000 candidates. A short in-process job (3 warm-ups, 8 iterations of about 100 ms) so the
/// whole run takes a few minutes on a 2-core machine.
/// </summary>
internal static class PickBenchCommand
{
    public const string Name = "pick-bench";

    private static readonly Argument<string[]> BenchmarkArguments = new("benchmarkdotnet-arguments")
    {
        Description = "Passed to BenchmarkDotNet as they are (default: --filter *), e.g. --filter *adaptive*",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public static Command Create()
    {
        // BenchmarkDotNet parses its own options: whatever follows the command name goes to it unchanged.
        var command = new Command(Name, "BenchmarkDotNet: the cost of one routing decision per strategy with 10, 100 and 1,000 candidates.")
        {
            BenchmarkArguments,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(parse => Run(parse.GetValue(BenchmarkArguments) ?? []));
        return command;
    }

    private static int Run(string[] args)
    {
        var job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(8)
            .WithIterationTime(TimeInterval.FromMilliseconds(100))
            .WithId("short");
        var config = ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        var summaries = BenchmarkSwitcher.FromTypes([typeof(PickBenchmarks)]).Run(args.Length == 0 ? ["--filter", "*"] : args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
    }
}
