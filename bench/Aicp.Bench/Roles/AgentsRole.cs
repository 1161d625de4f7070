using System.Diagnostics;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Connection;
using Aicp.Bench.Commands;
using Aicp.Bench.Infrastructure;

namespace Aicp.Bench.Roles;

/// <summary>
/// <c>agents-proc</c>: N agents in one process (<c>--protocol json|messagepack</c>), each serving
/// <see cref="Payloads.Method"/> with a handler that returns the payload at once. Opens connections in parallel batches, prints progress on stderr, then
/// "ready N" once every agent is registered; on stdin close prints "result {completed}" and exits.
/// </summary>
internal static class AgentsRole
{
    public const string Name = "agents-proc";

    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new BenchArgs(argv);
        var hubUrl = args.String("hub") ?? throw new ArgumentException("--hub is required");
        var count = args.Int("agents", 4);
        var concurrency = args.Int("concurrency", 1024);
        var batch = args.Int("batch", 100);
        var prefix = args.String("id-prefix") ?? "bench-agent";
        var protocol = args.String("protocol") ?? HubProtocols.Json;
        var timeout = TimeSpan.FromSeconds(args.Int("timeout-s", 300));
        var link = ParentLink.Listen();

        using var cts = new CancellationTokenSource(timeout);
        var agents = new List<AicpAgent>(count);
        var sw = Stopwatch.StartNew();
        ParentLink.Send("connecting");
        for (var start = 0; start < count; start += batch)
        {
            var group = new List<AicpAgent>();
            for (var i = start; i < Math.Min(count, start + batch); i++)
            {
                var agent = new AicpAgent(new AgentOptions
                {
                    HubUrl = hubUrl, AgentId = $"{prefix}-{i}", MaxConcurrency = concurrency,
                    LoadReportInterval = TimeSpan.Zero, ReportGpuTelemetry = false, Protocol = protocol,
                });
                agent.Handle(Payloads.Method, static (task, _) =>
                {
                    // Echo the payload in the form it came in: MessagePack bytes unconverted, JSON as JSON.
                    if (task.PayloadMessagePack is { } raw)
                    {
                        task.SetResultMessagePack(raw);
                        return ValueTask.FromResult(default(JsonElement));
                    }

                    return ValueTask.FromResult(task.Payload);
                });
                group.Add(agent);
            }

            try
            {
                await Task.WhenAll(group.Select(a => a.StartAsync(cts.Token)));
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine($"gave up after {timeout.TotalSeconds:0} s with {agents.Count} of {count} agents registered");
                return 1;
            }

            agents.AddRange(group);
            if (count >= 1000 && (agents.Count % 1000 == 0 || agents.Count == count))
            {
                Console.Error.WriteLine($"{agents.Count}/{count} agents registered after {sw.Elapsed.TotalSeconds:0.0} s");
            }
        }

        ParentLink.Send($"ready {agents.Count} {sw.Elapsed.TotalMilliseconds:0}");
        await link.Stop;
        ParentLink.Send("result " + JsonSerializer.Serialize(new { completed = agents.Sum(a => a.CompletedCount), failed = agents.Sum(a => a.FailedCount) }));
        // Connections close with the process; a graceful drain of thousands of agents is not what is measured.
        return 0;
    }
}
