using System.Text.Json;
using Aicp.Hub.Configuration;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Observability;
using Aicp.Hub.Registry;
using Aicp.Hub.Routing;
using Aicp.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Infrastructure;

/// <summary>
/// A dispatcher and registry wired as the hub wires them, without sockets: a manual clock that starts at a realistic
/// time (so a timestamp mixed up with a duration shows), and a channel that records what would be sent to agents.
/// </summary>
internal sealed class DispatcherFixture
{
    public const string Method = "image.label";

    private TaskDispatcher? _dispatcher;
    private AgentRegistry? _registry;
    private HubCounters? _counters;
    private IServiceProvider? _telemetry;

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));

    public RecordingAgentChannel Channel { get; } = new();

    /// <summary>The dispatcher's metrics as <c>/metrics</c> would serve them now.</summary>
    public Task<MetricsScrape> ScrapeAsync() => MetricsScrape.CollectAsync(Telemetry.GetRequiredService<HubMetrics>().Registry);

    /// <summary>The attempts as <c>/v1/routes</c> lists them, newest first.</summary>
    public IReadOnlyList<RouteRecord> Routes => Telemetry.GetRequiredService<RouteLog>().Latest(100);

    private IServiceProvider Telemetry
    {
        get
        {
            if (_telemetry is null)
            {
                Create();
            }

            return _telemetry!;
        }
    }

    /// <summary>What the dispatcher logged, every level.</summary>
    public CapturingLoggerProvider Logs { get; } = new(LogLevel.Trace);

    public TaskDispatcher Dispatcher => _dispatcher ?? Create().Dispatcher;

    public AgentRegistry Registry => _registry ?? Create().Registry;

    /// <summary>The hub-wide totals (failovers, late and foreign completions, ...) as <c>/v1/stats</c> reports them.</summary>
    public HubCounters Counters
    {
        get
        {
            if (_counters is null)
            {
                Create();
            }

            return _counters!;
        }
    }

    /// <summary>The messages the dispatcher logged with event <paramref name="eventId"/>.</summary>
    public IReadOnlyList<string> Logged(int eventId) => [.. Logs.Entries.Where(e => e.EventId.Id == eventId).Select(e => e.Message)];

    /// <summary>The capability's pool (it exists while an agent serves it).</summary>
    public CapabilityPool Pool => Registry.GetPool(Method) ?? throw new InvalidOperationException("no agent serves " + Method);

    /// <summary>Builds the registry and dispatcher with <paramref name="options"/> and the built-in strategies plus <paramref name="strategies"/>.</summary>
    public (TaskDispatcher Dispatcher, AgentRegistry Registry) Create(AicpHubOptions? options = null, params IRoutingStrategy[] strategies)
    {
        var logs = LoggerFactory.Create(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace)); // lives as long as the fixture
        (_dispatcher, _registry) = TestDispatcher.Create(Time, Channel, out var counters, out var telemetry, logs, options, rules: null, strategies);
        _counters = counters;
        _telemetry = telemetry;
        return (_dispatcher, _registry);
    }

    public AgentState Register(string id, int maxConcurrency = 4) =>
        Registry.Register("c-" + id, id, [Method], maxConcurrency, new Dictionary<string, string>()).Agent;

    public static TaskRequest Request(int timeoutMs = 10_000, int maxAttempts = 3, int? deadlineMs = null, string? strategy = null) => new()
    {
        Method = Method, Payload = TaskPayload.FromJson(JsonSerializer.SerializeToElement(1)), TimeoutMs = timeoutMs,
        MaxAttempts = maxAttempts, DeadlineMs = deadlineMs, Strategy = strategy,
    };

    public Task<TaskResult> Submit(TaskRequest? request = null, CancellationToken cancellationToken = default) =>
        Dispatcher.SubmitAsync(request ?? Request(), cancellationToken);

    /// <summary>The agent answers the assignment: its id as the result, or an agent error.</summary>
    public void Answer(AgentState agent, TaskAssignment sent, bool ok = true) =>
        Dispatcher.Complete(agent.ConnectionId, new TaskCompletion
        {
            TaskId = sent.TaskId, Attempt = sent.Attempt, Ok = ok,
            Result = ok ? TaskPayload.FromJson(JsonSerializer.SerializeToElement(agent.AgentId)) : null,
            Error = ok ? null : TaskError.Of("model_error", "boom"),
        });

    /// <summary>Waits until <paramref name="count"/> tasks wait in the capability's queue.</summary>
    public Task QueuedAsync(int count) => TestTimeouts.Eventually(() => Pool.Waiters.Count == count, $"{count} task(s) queued");

    /// <summary>Every slot given back, every attempt untracked from its agent and gone from the in-flight table.</summary>
    public void AssertNothingHeld(params AgentState[] agents)
    {
        Assert.All(agents, a => Assert.Equal((a.AgentId, 0, 0), (a.AgentId, a.Pending, a.TrackedAssignments)));
        Assert.Equal(0, Dispatcher.InFlightCount);
    }
}
