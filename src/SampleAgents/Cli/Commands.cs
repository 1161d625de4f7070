using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.SampleAgents.Labelee;
using Aicp.SampleAgents.Labelling;
using Aicp.SampleAgents.Labelling.Inference;
using Aicp.SampleAgents.Load;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Aicp.SampleAgents.Cli;

/// <summary>The labelee, swarm and submit subcommands.</summary>
internal static class Commands
{
    public static async Task<int> LabeleeAsync(CommandArgs args, CancellationToken stop)
    {
        var device = Device(args);
        if (args.Flag("self-test"))
        {
            args.RejectUnknown();
            return LabellerSelfTest.Run(device, Console.Out);
        }

        var hub = args.Required("hub");
        var profile = new LabeleeProfile(
            args.Required("id"),
            args.Int("delay-ms", 10, 0, 600_000),
            args.Int("jitter-ms", 0, 0, 600_000),
            args.Double("fail-rate", 0, 0, 1),
            args.Int("concurrency", 4, 1, 10_000));
        var protocol = Protocol(args);
        var batch = args.Int("batch", 1, 1, 4096);
        var token = args.String("token");
        args.RejectUnknown();

        using var logging = ConsoleLogging();
        using var labeller = DigitLabeller.LoadDefault(device, out var note);
        Console.WriteLine($"labeller: mnist-mlp {labeller.Architecture} on {note}");
        await using var agent = LabeleeAgent.Create(hub, profile, labeller, logging, protocol, batch, token);
        await RunUntilStoppedAsync([agent], stop);
        return 0;
    }

    public static async Task<int> SwarmAsync(CommandArgs args, CancellationToken stop)
    {
        var hub = args.Required("hub");
        var count = args.Int("count", 3, 1, 1_000);
        var protocol = Protocol(args);
        var device = Device(args);
        var token = args.String("token");
        args.RejectUnknown();

        using var logging = ConsoleLogging();
        using var labeller = DigitLabeller.LoadDefault(device, out var note);
        Console.WriteLine($"labeller: mnist-mlp {labeller.Architecture} on {note}");
        var agents = LabeleeProfile.Swarm(count).Select(p => LabeleeAgent.Create(hub, p, labeller, logging, protocol, accessToken: token)).ToList();
        try
        {
            await RunUntilStoppedAsync(agents, stop);
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }
        }

        return 0;
    }

    public static async Task<int> SubmitAsync(CommandArgs args, CancellationToken stop)
    {
        var hub = args.Required("hub");
        var method = args.String("method", LabeleeAgent.Method)!;
        var count = args.Int("count", 100, 1, 10_000_000);
        var concurrency = args.Int("concurrency", 8, 1, 100_000);
        var options = new SubmitOptions
        {
            Strategy = args.String("strategy"),
            TimeoutMs = args.Flag("timeout-ms") ? args.Int("timeout-ms", 0, 1, 600_000) : null,
            MaxAttempts = args.Flag("max-attempts") ? args.Int("max-attempts", 0, 1, 10) : null,
        };
        var json = args.Flag("json");
        var protocol = Protocol(args);
        var token = args.String("token");
        args.RejectUnknown();

        var images = SampleImages.Load();
        await using var client = new AicpTaskClient(new AicpConnectionOptions { HubUrl = hub, Protocol = protocol, AccessToken = token });
        using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        connectTimeout.CancelAfter(TimeSpan.FromSeconds(30));
        await client.ConnectAsync(connectTimeout.Token);

        var summary = await LoadRunner.RunAsync(client, method, count, concurrency, images.Payload, options, cancellationToken: stop,
            isCorrect: method == LabeleeAgent.Method && images.HasLabels ? (i, r) => LabelCheck.IsCorrect(images, i, r) : null);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(summary.ToJson(), AgentJson.Options));
            return 0;
        }

        var table = new Table().AddColumns("status", "count");
        foreach (var (status, n) in summary.ByStatus)
        {
            table.AddRow(status, n.ToString());
        }

        AnsiConsole.Write(table);
        var agents = new Table().AddColumns("agent", "tasks", "share");
        foreach (var (agent, n) in summary.PerAgent)
        {
            agents.AddRow(agent, n.ToString(), $"{100.0 * n / count:F1}%");
        }

        AnsiConsole.Write(agents);
        AnsiConsole.MarkupLine($"latency p50 [bold]{summary.Percentile(0.5)}[/] ms, p95 [bold]{summary.Percentile(0.95)}[/] ms, p99 [bold]{summary.Percentile(0.99)}[/] ms; failovers {summary.Failovers}");
        if (summary.Accuracy is { } accuracy)
        {
            AnsiConsole.MarkupLine($"labels correct on held-out MNIST digits: [bold]{accuracy:P2}[/]");
        }
        return 0;
    }

    private static string Device(CommandArgs args)
    {
        var device = args.String("device", InferenceBackends.Auto)!;
        return device is InferenceBackends.Auto or InferenceBackends.Cpu or InferenceBackends.Cuda
            ? device
            : throw new UsageException($"--device must be {InferenceBackends.Auto}, {InferenceBackends.Cpu} or {InferenceBackends.Cuda}; got '{device}'.");
    }

    private static string Protocol(CommandArgs args)
    {
        var protocol = args.String("protocol", HubProtocols.Json)!;
        return protocol is HubProtocols.Json or HubProtocols.MessagePack
            ? protocol
            : throw new UsageException($"--protocol must be {HubProtocols.Json} or {HubProtocols.MessagePack}; got '{protocol}'.");
    }

    private static async Task RunUntilStoppedAsync(IReadOnlyList<AicpAgent> agents, CancellationToken stop)
    {
        await Task.WhenAll(agents.Select(a => a.StartAsync(stop)));
        Console.WriteLine($"{agents.Count} agent(s) registered; Ctrl+C drains and exits.");
        try
        {
            await Task.Delay(Timeout.Infinite, stop);
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(agents.Select(a => a.StopAsync()));
    }

    private static ILoggerFactory ConsoleLogging() => LoggerFactory.Create(b => b
        .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
        .SetMinimumLevel(LogLevel.Information)
        .AddFilter("Microsoft", LogLevel.Warning));
}
