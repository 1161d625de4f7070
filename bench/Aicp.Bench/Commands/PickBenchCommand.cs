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
    public static Task<int> RunAsync(string[] args)
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
        return Task.FromResult(summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0);
    }
}
