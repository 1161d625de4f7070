using System.CommandLine;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Hub.Security;
using Aicp.Protocol;
using Aicp.SampleAgents.Labelee;
using Aicp.SampleAgents.Load;
using Spectre.Console;

namespace Aicp.SampleAgents.Cli;

/// <summary>What <c>submit</c> was asked to send; <paramref name="Tensor"/> and <paramref name="Shape"/>: digits as a model agent's input instead of images.</summary>
internal sealed record SubmitSettings(
    string Hub, string Method, int Count, int Concurrency, SubmitOptions Options, bool Json, HubProtocol Protocol, string? Token, string? CaCert = null,
    string? Tensor = null, long[]? Shape = null);

/// <summary>
/// <c>submit --hub URL [...]</c>: submits the shipped held-out digits — as <c>image.label</c> requests, or with
/// <c>--tensor NAME [--shape DIMS]</c> as a model agent's float32 input — and prints a summary (a table, or JSON with
/// --json); the error codes of tasks that did not complete go to stderr. Exits with 1 when no task completed or the hub
/// refused the connection.
/// </summary>
internal sealed class SubmitCommand : Command
{
    public const string CommandName = "submit";

    public Option<string> Hub { get; } = CliOptions.Hub();

    public Option<string> Method { get; } = new("--method")
    {
        Description = "Capability to call",
        HelpName = "M",
        DefaultValueFactory = _ => LabeleeAgent.Method,
    };

    public Option<int> Count { get; } = CliOptions.Int("--count", "Tasks to submit", 100, 1, 10_000_000);

    public Option<int> Concurrency { get; } = CliOptions.Int("--concurrency", "Tasks in flight at once", 8, 1, 100_000);

    public Option<string> Strategy { get; } = new("--strategy") { Description = "Routing strategy (default: the hub's)", HelpName = "S" };

    public Option<int?> TimeoutMs { get; } = CliOptions.OptionalInt("--timeout-ms", "Per-attempt timeout, ms; default: the hub's", 1, 600_000, "MS");

    public Option<int?> MaxAttempts { get; } = CliOptions.OptionalInt("--max-attempts", "Attempts per task; default: the hub's", 1, 10);

    public Option<HubProtocol> Protocol { get; } = CliOptions.Protocol();

    public Option<bool> Json { get; } = CliOptions.Flag("--json",
        "Print one JSON object: {total, completed, failed, timeout, statuses{}, perAgent{}, errorCodes{}, failovers, accuracy, tasksPerSecond, p50Ms, p95Ms, p99Ms}");

    public Option<string> Token { get; } = CliOptions.Token();

    public Option<string> CaCert { get; } = CliOptions.CaCert();

    public Option<string> Tensor { get; } = new("--tensor")
    {
        Description = "Send each digit as this float32 input of a model agent (onnx), e.g. input; correct = the largest of the first output's 10 values",
        HelpName = "NAME",
    };

    public Option<long[]> Shape { get; } = new("--shape")
    {
        Description = "The tensor's shape with --tensor, 784 values in all (default 1,1,28,28)",
        HelpName = "DIMS",
        CustomParser = result =>
        {
            var raw = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            var dims = raw.Split(',').Select(d => long.TryParse(d, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 0).ToArray();
            if (dims.Any(d => d < 1) || dims.Aggregate(1L, (a, d) => a * d) != 784)
            {
                result.AddError($"--shape takes comma-separated dimensions whose product is 784; got '{raw}'.");
                return [];
            }

            return dims;
        },
    };

    public SubmitCommand()
        : base(CommandName, "Submits tasks and prints a summary (JSON with --json).")
    {
        Hub.Required = true;
        Options.Add(Hub);
        Options.Add(Method);
        Options.Add(Count);
        Options.Add(Concurrency);
        Options.Add(Strategy);
        Options.Add(TimeoutMs);
        Options.Add(MaxAttempts);
        Options.Add(Protocol);
        Options.Add(Json);
        Options.Add(Token);
        Options.Add(CaCert);
        Options.Add(Tensor);
        Options.Add(Shape);
        SetAction((parse, stop) => ExitCodes.OrInterrupted(RunAsync(Bind(parse), stop), stop));
    }

    public SubmitSettings Bind(ParseResult parse) => new(
        parse.GetValue(Hub)!,
        parse.GetValue(Method)!,
        parse.GetValue(Count),
        parse.GetValue(Concurrency),
        new SubmitOptions
        {
            Strategy = parse.GetValue(Strategy) is { } strategy ? new RoutingStrategy(strategy) : null,
            Timeout = parse.GetValue(TimeoutMs) is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
            MaxAttempts = parse.GetValue(MaxAttempts),
        },
        parse.GetValue(Json),
        parse.GetValue(Protocol),
        parse.GetValue(Token),
        parse.GetValue(CaCert),
        parse.GetValue(Tensor),
        parse.GetValue(Tensor) is null ? null : parse.GetValue(Shape) is { Length: > 0 } shape ? shape : [1, 1, 28, 28]);

    private static readonly JsonSerializerOptions JsonOutput = AicpConnectionOptions.CreateSerializerOptions();

    /// <summary>How long submit waits for the hub to accept its connection before it gives up.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Connects (retries are logged on stderr), submits, prints the summary and the error codes of the tasks that did not
    /// complete. A refused credential, a hub that cannot be reached within <see cref="ConnectTimeout"/>, or a run in which
    /// no task completed is <see cref="ExitCodes.Failure"/>, with the reason on stderr.
    /// </summary>
    private static async Task<int> RunAsync(SubmitSettings settings, CancellationToken stop)
    {
        var images = SampleImages.Load();
        using var logging = AgentLifetime.ErrorLogging();
        await using var client = new AicpTaskClient(new AicpConnectionOptions
        {
            HubUrl = settings.Hub, Protocol = settings.Protocol, AccessToken = settings.Token,
            RemoteCertificateValidationCallback = CliOptions.CertificateValidation(settings.CaCert),
        }, logging);
        using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        connectTimeout.CancelAfter(ConnectTimeout);
        try
        {
            await client.ConnectAsync(connectTimeout.Token);
        }
        catch (AicpConnectionRefusedException ex)
        {
            await Console.Error.WriteLineAsync(HubRefusals.Describe(ex, CommandName, AicpRoles.Submitter, settings.Token is not null));
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"error: could not connect to the hub at {settings.Hub} within {ConnectTimeout.TotalSeconds:F0} s (the warnings above say why); is it running?");
            return ExitCodes.Failure;
        }

        var method = settings.Method;
        var count = settings.Count;
        Func<int, object?> payload = settings.Tensor is { } tensor ? i => images.TensorPayload(i, tensor, settings.Shape!) : images.Payload;
        Func<int, TaskResult, bool?>? judge = settings.Tensor is not null ? (i, r) => LabelCheck.IsCorrectTensor(images, i, r)
            : method == LabeleeAgent.Method ? (i, r) => LabelCheck.IsCorrect(images, i, r) : null;
        var summary = await LoadRunner.RunAsync(client, method, count, settings.Concurrency, payload, settings.Options, cancellationToken: stop, isCorrect: judge);
        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(summary.ToJson(), JsonOutput));
        }
        else
        {
            PrintTables(summary, count);
        }

        return await ReportFailuresAsync(summary, settings);
    }

    private static void PrintTables(LoadSummary summary, int count)
    {
        var table = new Table().AddColumns("status", "count");
        foreach (var (status, n) in summary.ByStatus)
        {
            table.AddRow(status, n.ToString());
        }

        AnsiConsole.Write(table);
        if (summary.ByError.Count > 0)
        {
            var errors = new Table().AddColumns("status", "error code", "count", "message (first seen)");
            foreach (var (code, (n, status, message)) in summary.ByError)
            {
                errors.AddRow(Markup.Escape(status), Markup.Escape(code), n.ToString(), Markup.Escape(message));
            }

            AnsiConsole.Write(errors);
        }

        var agents = new Table().AddColumns("agent", "tasks", "share");
        foreach (var (agent, n) in summary.PerAgent)
        {
            agents.AddRow(agent, n.ToString(), $"{100.0 * n / count:F1}%");
        }

        AnsiConsole.Write(agents);
        AnsiConsole.MarkupLine($"latency p50 [bold]{summary.Percentile(0.5)}[/] ms, p95 [bold]{summary.Percentile(0.95)}[/] ms, p99 [bold]{summary.Percentile(0.99)}[/] ms; failovers {summary.Failovers}; [bold]{summary.TasksPerSecond:F0}[/] tasks/s");
        if (summary.Accuracy is { } accuracy)
        {
            AnsiConsole.MarkupLine($"labels correct on held-out MNIST digits: [bold]{accuracy:P2}[/]");
        }
    }

    /// <summary>On stderr: each error code with a hint where one helps; the exit code (failure when no task completed).</summary>
    private static async Task<int> ReportFailuresAsync(LoadSummary summary, SubmitSettings settings)
    {
        foreach (var (code, (n, status, message)) in summary.ByError)
        {
            var hint = HubRefusals.HintFor(code, CommandName, settings.Token is not null);
            await Console.Error.WriteLineAsync($"{n} task(s) {status} ({code}): {message}" + (hint is null ? "" : $" Hint: {hint}"));
        }

        if (summary.Count(TaskStatuses.Completed) > 0)
        {
            return ExitCodes.Success;
        }

        await Console.Error.WriteLineAsync($"error: none of the {summary.Total} task(s) completed.");
        return ExitCodes.Failure;
    }
}
