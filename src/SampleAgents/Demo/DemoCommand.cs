using System.CommandLine;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Hub.Hosting;
using Aicp.Protocol;
using Aicp.SampleAgents.Cli;
using Aicp.SampleAgents.Labelee;
using Aicp.SampleAgents.Labelling;
using Aicp.SampleAgents.Labelling.Data;
using Aicp.SampleAgents.Onnx;
using Aicp.SampleAgents.Load;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Aicp.SampleAgents.Demo;

/// <summary>What <c>demo</c> was asked to run.</summary>
internal sealed record DemoSettings(int TasksPerRun, int Concurrency);

/// <summary>
/// Everything in one process: an embedded hub on a free loopback port, three labelees (fast, medium,
/// slow and flaky), a run of tasks under every strategy, then a run during which one agent is killed,
/// and a table comparing them; then the OpenAI-compatible route, answered by a chat agent.
/// </summary>
internal sealed class DemoCommand : Command
{
    public const string CommandName = "demo";
    private const string KilledAgent = "labelee-medium";
    private const int Tasks = 600;
    private const int QuickTasks = 150;

    public Option<bool> Quick { get; } = CliOptions.Flag("--quick", $"{QuickTasks} tasks per run instead of {Tasks} (what CI runs)");

    public Option<int?> TasksPerRun { get; } = CliOptions.OptionalInt("--tasks", $"Tasks per run; default {Tasks}, or {QuickTasks} with --quick", 10, 1_000_000);

    public Option<int> Concurrency { get; } = CliOptions.Int("--concurrency", "Tasks in flight at once", 8, 1, 10_000);

    public DemoCommand()
        : base(CommandName, "Embedded hub + three labelees; every strategy compared; one agent killed midway; then one OpenAI-compatible chat completion, plain and streamed.")
    {
        Options.Add(Quick);
        Options.Add(TasksPerRun);
        Options.Add(Concurrency);
        SetAction((parse, stop) => ExitCodes.OrInterrupted(RunAsync(Bind(parse), stop), stop));
    }

    public DemoSettings Bind(ParseResult parse) =>
        new(parse.GetValue(TasksPerRun) ?? (parse.GetValue(Quick) ? QuickTasks : Tasks), parse.GetValue(Concurrency));

    private static async Task<int> RunAsync(DemoSettings settings, CancellationToken stop)
    {
        var perRun = settings.TasksPerRun;
        var concurrency = settings.Concurrency;

        await using var hub = await EmbeddedHub.StartAsync(configure: b => b.Logging.ClearProviders());
        AnsiConsole.MarkupLine($"[bold]AICP Hub[/] embedded at [link]{hub.BaseUrl}[/] (SignalR endpoint {ProtocolDefaults.HubPath})");

        using var labeller = DigitLabeller.LoadDefault(InferenceDevices.Auto);
        var images = SampleImages.Load();
        AnsiConsole.MarkupLine($"  model: {Markup.Escape(labeller.Description)} on ONNX Runtime, {Markup.Escape(labeller.Model.DeviceNote)}");
        AnsiConsole.MarkupLine($"  inputs: {images.Count} held-out MNIST digits shipped in {Markup.Escape(DigitSample.DefaultRelativePath)} (MNIST: Y. LeCun, C. Cortes, C. J. C. Burges; see data/README.md)");
        Func<int, TaskResult, bool?> judge = (i, r) => LabelCheck.IsCorrect(images, i, r);

        var agents = LabeleeProfile.DemoTrio.Select(p => LabeleeAgent.Create(hub.BaseUrl.ToString(), p, labeller)).ToList();
        await Task.WhenAll(agents.Select(a => a.StartAsync(stop)));
        foreach (var p in LabeleeProfile.DemoTrio)
        {
            AnsiConsole.MarkupLine($"  agent [green]{p.Id}[/]: ~{p.DelayMs} ms ±{p.JitterMs}, fail rate {p.FailRate:P0}, concurrency {p.Concurrency}");
        }

        await using var client = new AicpTaskClient(new AicpConnectionOptions { HubUrl = hub.BaseUrl.ToString() });
        await client.ConnectAsync(stop);

        // Warm-up (JIT, connection pools) so the first strategy measured is not penalized.
        await LoadRunner.RunAsync(client, LabeleeAgent.Method, 60, concurrency, images.Payload, new SubmitOptions(), cancellationToken: stop);

        var runs = new List<(string Name, LoadSummary Summary)>();
        async Task RunAllAsync(Func<string, Action<int>> track)
        {
            foreach (var strategy in hub.StrategyNames)
            {
                var summary = await LoadRunner.RunAsync(client, LabeleeAgent.Method, perRun, concurrency, images.Payload,
                    new SubmitOptions { Strategy = new RoutingStrategy(strategy) }, track(strategy), stop, judge);
                runs.Add((strategy, summary));
            }

            var name = $"{hub.DefaultStrategy} + kill";
            var advance = track($"{hub.DefaultStrategy} + kill {KilledAgent}");
            var done = 0;
            Task? kill = null;
            var failover = await LoadRunner.RunAsync(client, LabeleeAgent.Method, perRun, concurrency, images.Payload,
                new SubmitOptions(), i =>
                {
                    advance(i);
                    if (Interlocked.Increment(ref done) == perRun / 2)
                    {
                        kill = agents.Single(a => a.AgentId == KilledAgent).AbortAsync();
                    }
                }, stop, judge);
            if (kill is not null)
            {
                await kill;
            }

            runs.Add((name, failover));
        }

        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(ctx => RunAllAsync(name =>
                {
                    var bar = ctx.AddTask(name, maxValue: perRun);
                    return _ => bar.Increment(1);
                }));
        }
        else
        {
            // Not a terminal (a pipe, a log file, CI): one plain line per run instead of a redrawn progress display.
            await RunAllAsync(name =>
            {
                Console.WriteLine($"  run {name}: {perRun} tasks");
                return _ => { };
            });
        }

        Render(runs);
        foreach (var agent in agents)
        {
            await agent.DisposeAsync();
        }

        var lost = runs.Sum(r => r.Summary.Total - r.Summary.ByStatus.Values.Sum());
        var clientErrors = runs.Sum(r => r.Summary.Count("client_error"));
        AnsiConsole.MarkupLine(lost == 0 && clientErrors == 0
            ? "[green]Every task got exactly one result.[/]"
            : $"[red]{lost} task(s) without a result, {clientErrors} client error(s).[/]");

        var chat = await OpenAiRouteDemo.RunAsync(hub.BaseUrl, stop);
        if (!chat)
        {
            AnsiConsole.MarkupLine("[red]The OpenAI-compatible route did not answer with the responder's text.[/]");
        }

        return lost == 0 && clientErrors == 0 && chat ? 0 : 1;
    }

    private static void Render(List<(string Name, LoadSummary Summary)> runs)
    {
        var agentIds = LabeleeProfile.DemoTrio.Select(p => p.Id).ToList();
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 160;
        }

        var table = new Table().Title($"Strategies compared ({runs[0].Summary.Total} tasks each; latency is the submitter's round trip in ms; shares of completed tasks)")
            .AddColumns("run", "completed", "failed", "timeout", "failovers", "correct", "p50", "p95", "p99");
        foreach (var id in agentIds)
        {
            table.AddColumn(id.Replace("labelee-", ""));
        }

        foreach (var (name, s) in runs)
        {
            var row = new List<string>
            {
                name, s.Count(TaskStatuses.Completed).ToString(), s.Count(TaskStatuses.Failed).ToString(),
                s.Count(TaskStatuses.Timeout).ToString(), s.Failovers.ToString(), s.Accuracy is { } a ? a.ToString("P1") : "n/a",
                s.Percentile(0.5).ToString("F1"), s.Percentile(0.95).ToString("F1"), s.Percentile(0.99).ToString("F1"),
            };
            row.AddRange(agentIds.Select(id => $"{100.0 * s.PerAgent.GetValueOrDefault(id) / s.Total:F0}%"));
            table.AddRow(row.ToArray());
        }

        AnsiConsole.Write(table);
    }
}
