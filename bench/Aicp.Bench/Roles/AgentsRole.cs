using System.CommandLine;
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

    private static readonly Option<string> Hub = new("--hub") { Description = "The hub's base URL", Required = true };
    private static readonly Option<int> Count = BenchOptions.Int("--agents", "Agents to start", 4, max: 100_000);
    private static readonly Option<int> Concurrency = BenchOptions.Int("--concurrency", "maxConcurrency of each agent", 1024, max: 1_000_000);
    private static readonly Option<int> Batch = BenchOptions.Int("--batch", "Agents connecting at once", 100, max: 100_000);
    private static readonly Option<string> Prefix = new("--id-prefix") { Description = "Agent id prefix", DefaultValueFactory = _ => "bench-agent" };
    private static readonly Option<HubProtocol> Protocol = BenchOptions.Protocol("Wire protocol of the agents");
    private static readonly Option<int> TimeoutSeconds = BenchOptions.Int("--timeout-s", "Most seconds to wait for every agent to register", 300, max: 86_400);
    private static readonly Option<bool> Typed = BenchOptions.Flag("--typed", "Typed handlers (Handle<T, T>) that bind the payload and return it");
    private static readonly Option<bool> Binary = BenchOptions.Flag("--binary", "With --typed: the payload is { data: byte[] }");

    /// <summary>The hidden child-process command; its arguments are written by the benchmarks that start it.</summary>
    public static Command Create()
    {
        var command = new Command(Name) { Hub, Count, Concurrency, Batch, Prefix, Protocol, TimeoutSeconds, Typed, Binary };
        command.Hidden = true;
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var hubUrl = parse.GetValue(Hub)!;
        var count = parse.GetValue(Count);
        var concurrency = parse.GetValue(Concurrency);
        var batch = parse.GetValue(Batch);
        var prefix = parse.GetValue(Prefix)!;
        var protocol = parse.GetValue(Protocol);
        var timeout = TimeSpan.FromSeconds(parse.GetValue(TimeoutSeconds));
        var typed = parse.GetValue(Typed);
        var binary = parse.GetValue(Binary);
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
                    LoadReportInterval = TimeSpan.Zero, Protocol = protocol,
                });
                if (typed && binary)
                {
                    agent.Handle<Payloads.BinaryPayload, Payloads.BinaryPayload>(Payloads.Method, static (request, _, _) => ValueTask.FromResult(request));
                }
                else if (typed)
                {
                    agent.Handle<Payloads.TextPayload, Payloads.TextPayload>(Payloads.Method, static (request, _, _) => ValueTask.FromResult(request));
                }
                else
                {
                    // Echo the payload in the form it came in: MessagePack bytes unconverted, JSON as JSON.
                    agent.Handle(Payloads.Method, static (task, _) => ValueTask.FromResult(task.Payload));
                }
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
