using System.Text.Json;
using Aicp.Hub.Configuration;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using Aicp.Tests.Hub.RoutingConfiguration;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Hub.Dispatch;

/// <summary>The routing file's per-capability defaults in the dispatcher: used by tasks that set none, never over a task's own.</summary>
public sealed class TaskDispatcherRoutingRulesTests
{
    private const string Method = "image.label";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly RecordingAgentChannel _channel = new();

    private (TaskDispatcher Dispatcher, AgentRegistry Registry) Create() => TestDispatcher.Create(_time, _channel, new AicpHubOptions(),
        RoutingRulesReaderTests.Read("capabilities:\n  image.label: { strategy: round-robin, timeoutMs: 4321, maxAttempts: 1 }\n"));

    private static TaskRequest Request(int? timeoutMs = null, int? maxAttempts = null, string? strategy = null) => new()
    {
        Method = Method, Payload = TaskPayload.FromJson(JsonSerializer.SerializeToElement(1)), TimeoutMs = timeoutMs, MaxAttempts = maxAttempts, Strategy = strategy,
    };

    private static void Fail(TaskDispatcher dispatcher, AgentState agent, TaskAssignment sent) =>
        dispatcher.Complete(agent.ConnectionId, new TaskCompletion { TaskId = sent.TaskId, Attempt = sent.Attempt, Ok = false, Error = TaskError.Of("model_error", "boom") });

    [Fact]
    public async Task Submit_TaskSetsNone_TheCapabilitysRulesApply()
    {
        var (dispatcher, registry) = Create();
        registry.Register("c-a", "a", [Method], 4, new Dictionary<string, string>());
        registry.Register("c-b", "b", [Method], 4, new Dictionary<string, string>());

        var task = dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (agent, sent) = await _channel.NextAsync();
        Fail(dispatcher, agent, sent);
        var result = await task.DefaultTimeout();

        Assert.Equal(4321, sent.TimeoutMs);
        Assert.Equal((TaskStatuses.Failed, 1, "round-robin"), (result.Status, result.Attempts, result.Strategy)); // one attempt: no failover to the other agent
        Assert.True(_channel.IsEmpty);
    }

    [Fact]
    public async Task Submit_TaskSetsItsOwn_TheTasksSettingsWin()
    {
        var (dispatcher, registry) = Create();
        registry.Register("c-a", "a", [Method], 4, new Dictionary<string, string>());
        registry.Register("c-b", "b", [Method], 4, new Dictionary<string, string>());

        var task = dispatcher.SubmitAsync(Request(timeoutMs: 2000, maxAttempts: 2, strategy: "least-loaded"), CancellationToken.None);
        var (first, sent) = await _channel.NextAsync();
        Fail(dispatcher, first, sent);
        var (second, retried) = await _channel.NextAsync();
        Fail(dispatcher, second, retried);
        var result = await task.DefaultTimeout();

        Assert.Equal((2000, 2000), (sent.TimeoutMs, retried.TimeoutMs));
        Assert.NotEqual(first.AgentId, second.AgentId);
        Assert.Equal((TaskStatuses.Failed, 2, "least-loaded"), (result.Status, result.Attempts, result.Strategy));
    }

    [Fact]
    public async Task Submit_CapabilityNotInTheRules_TheHubsDefaults()
    {
        var (dispatcher, registry) = Create();
        registry.Register("c-a", "a", ["text.chat"], 4, new Dictionary<string, string>());

        var task = dispatcher.SubmitAsync(new TaskRequest { Method = "text.chat", Payload = TaskPayload.FromJson(JsonSerializer.SerializeToElement(1)) }, CancellationToken.None);
        var (agent, sent) = await _channel.NextAsync();
        dispatcher.Complete(agent.ConnectionId, new TaskCompletion { TaskId = sent.TaskId, Attempt = sent.Attempt, Ok = true, Result = TaskPayload.FromJson(JsonSerializer.SerializeToElement(2)) });
        var result = await task.DefaultTimeout();

        Assert.Equal(ProtocolDefaults.TimeoutMs, sent.TimeoutMs);
        Assert.Equal((TaskStatuses.Completed, "adaptive"), (result.Status, result.Strategy));
    }
}
