using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Hosting;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Aicp.Bench.Commands;

/// <summary>
/// <c>dispatch-cost [--tasks N] [--agents K] [--concurrency C] [--json]</c>: the hub's own cost per task with the
/// network taken away. The real dispatcher, registry, strategies and telemetry run in-process; the agent channel
/// answers every Execute at once with a Complete. Reports CPU time and bytes allocated per task, so changes to the
/// submit -> pick -> Execute -> Complete -> result path can be compared without the noise of sockets.
/// </summary>
internal static class DispatchCostCommand
{
    public const string Name = "dispatch-cost";
    private static readonly Option<int> Tasks = BenchOptions.Int("--tasks", "Tasks measured (after a warm-up of up to 20,000)", 200_000, max: 100_000_000);
    private static readonly Option<int> Agents = BenchOptions.Int("--agents", "Agents registered", 10, max: 10_000);
    private static readonly Option<int> Concurrency = BenchOptions.Int("--concurrency", "Tasks in flight at once", 64, max: 100_000);
    private static readonly Option<bool> Json = BenchOptions.Json();

    public static Command Create()
    {
        var command = new Command(Name, "The hub's own CPU time and allocations per task, in-process, with agents that answer at once (no sockets).")
        {
            Tasks, Agents, Concurrency, Json,
        };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var tasks = parse.GetValue(Tasks);
        var agents = parse.GetValue(Agents);
        var concurrency = parse.GetValue(Concurrency);
        var json = parse.GetValue(Json);

        var settings = new Dictionary<string, string?> { ["Aicp:Security:RateLimit:Enabled"] = "false" };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(configuration)
            .AddSingleton<InstantChannel>()
            .AddSingleton<IAgentChannel>(sp => sp.GetRequiredService<InstantChannel>());
        services.AddAicpHub(configuration);
        await using var provider = services.BuildServiceProvider();
        var registry = provider.GetRequiredService<AgentRegistry>();
        var dispatcher = provider.GetRequiredService<TaskDispatcher>();
        provider.GetRequiredService<InstantChannel>().Dispatcher = dispatcher;
        for (var i = 0; i < agents; i++)
        {
            registry.Register($"conn-{i}", $"agent-{i}", ["bench.noop"], 1024, new Dictionary<string, string>());
        }

        var payload = TaskPayload.FromJson(JsonSerializer.SerializeToElement(new { data = new string('x', 200) }));
        var request = new TaskRequest { Method = "bench.noop", Payload = payload };
        await RunBatchAsync(dispatcher, request, Math.Min(tasks, 20_000), concurrency); // warm-up

        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var gen0Before = GC.CollectionCount(0);
        var watch = Stopwatch.StartNew();
        var completed = await RunBatchAsync(dispatcher, request, tasks, concurrency);
        watch.Stop();
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        var result = new
        {
            tasks,
            completed,
            agents,
            concurrency,
            cpuUsPerTask = Math.Round(cpu.TotalMicroseconds / tasks, 2),
            wallUsPerTask = Math.Round(watch.Elapsed.TotalMicroseconds / tasks, 2),
            bytesPerTask = allocated / tasks,
            gen0Collections = GC.CollectionCount(0) - gen0Before,
            machine = Infrastructure.Machine.Describe(),
        };
        Console.WriteLine(json
            ? JsonSerializer.Serialize(result)
            : $"{tasks} tasks, {agents} agents, {concurrency} in flight: {result.cpuUsPerTask} us CPU/task, {result.wallUsPerTask} us wall/task, {result.bytesPerTask} B allocated/task, {result.gen0Collections} gen0 GCs ({result.machine})");
        return completed == tasks ? 0 : 1;
    }

    private static async Task<int> RunBatchAsync(TaskDispatcher dispatcher, TaskRequest request, int count, int concurrency)
    {
        var next = -1;
        var completed = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) < count)
            {
                var result = await dispatcher.SubmitAsync(request, CancellationToken.None);
                if (result.Status == TaskStatuses.Completed)
                {
                    Interlocked.Increment(ref completed);
                }
            }
        })));
        return completed;
    }

    /// <summary>An agent that answers every assignment as soon as it is sent.</summary>
    private sealed class InstantChannel : IAgentChannel
    {
        private static readonly TaskPayload Result = TaskPayload.FromJson(JsonSerializer.SerializeToElement(new { ok = true }));

        public TaskDispatcher? Dispatcher { get; set; }

        public Task SendExecuteAsync(AgentState agent, TaskAssignment assignment)
        {
            Dispatcher!.Complete(agent.ConnectionId, new TaskCompletion { TaskId = assignment.TaskId, Attempt = assignment.Attempt, Ok = true, Result = Result });
            return Task.CompletedTask;
        }

        public Task SendCancelAsync(AgentState agent, string taskId) => Task.CompletedTask;
    }
}
