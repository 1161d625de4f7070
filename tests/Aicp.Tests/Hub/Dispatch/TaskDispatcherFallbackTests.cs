using System.Text.Json;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Observability;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using Aicp.Tests.Hub.RoutingConfiguration;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Hub.Dispatch;

/// <summary>
/// Fallback chains: a task whose capability has no agent to take it, or whose attempts all failed, moves on to the next
/// capability of its chain (the routing file's, or the request's own), and its route shows every hop.
/// </summary>
public sealed class TaskDispatcherFallbackTests
{
    private static readonly Dictionary<string, string> NoMetadata = [];
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly RecordingAgentChannel _channel = new();
    private readonly TaskDispatcher _dispatcher;
    private readonly AgentRegistry _registry;
    private readonly HubCounters _counters;

    public TaskDispatcherFallbackTests()
    {
        (_dispatcher, _registry) = TestDispatcher.Create(_time, _channel, out _counters, rules: RoutingRulesReaderTests.Read("""
            capabilities:
              text.chat: { fallbacks: [text.chat.small], maxAttempts: 2 }
              text.chat.small: { fallbacks: [text.echo], strategy: round-robin, timeoutMs: 7000 }
            """));
    }

    private static TaskRequest Request(string method = "text.chat", string[]? fallbacks = null) => new()
    {
        Method = method, Payload = TaskPayload.FromJson(JsonSerializer.SerializeToElement("hello")), Fallbacks = fallbacks,
    };

    private void Complete(AgentState agent, TaskAssignment sent, bool ok = true) => _dispatcher.Complete(agent.ConnectionId, new TaskCompletion
    {
        TaskId = sent.TaskId, Attempt = sent.Attempt, Ok = ok,
        Result = ok ? TaskPayload.FromJson(JsonSerializer.SerializeToElement(sent.Method)) : null,
        Error = ok ? null : TaskError.Of("model_error", "boom"),
    });

    [Fact]
    public async Task Submit_CapabilityHasNoAgents_NextOfTheChainServesIt()
    {
        _registry.Register("c-s", "small", ["text.chat.small"], 2, NoMetadata);

        var task = _dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (agent, sent) = await _channel.NextAsync();
        Complete(agent, sent);
        var result = await task.DefaultTimeout();

        Assert.Equal(("text.chat.small", 1, 7000), (sent.Method, sent.Attempt, sent.TimeoutMs)); // the fallback's own settings
        Assert.Equal((TaskStatuses.Completed, "small", 1, "round-robin"), (result.Status, result.AgentId, result.Attempts, result.Strategy));
        Assert.Equal("\"text.chat.small\"", result.Result!.ToString());
        Assert.Collection(result.Route!,
            skipped => Assert.Equal(("", "text.chat", AttemptOutcomes.Skipped, ErrorCodes.NoAgents), (skipped.AgentId, skipped.Method, skipped.Outcome, skipped.Error?.Code)),
            done => Assert.Equal(("small", "text.chat.small", AttemptOutcomes.Completed), (done.AgentId, done.Method, done.Outcome)));
        Assert.Equal(1, _counters.Fallbacks);
        Assert.True(_channel.IsEmpty);
    }

    [Fact]
    public async Task Submit_EveryAttemptFailed_FallsBackWithAttemptNumbersGoingOn()
    {
        _registry.Register("c-a", "a", ["text.chat"], 2, NoMetadata);
        _registry.Register("c-b", "b", ["text.chat"], 2, NoMetadata);
        _registry.Register("c-s", "small", ["text.chat.small"], 2, NoMetadata);

        var task = _dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (first, one) = await _channel.NextAsync();
        Complete(first, one, ok: false);
        var (second, two) = await _channel.NextAsync();
        Complete(second, two, ok: false);
        var (third, three) = await _channel.NextAsync();
        Complete(third, three);
        var result = await task.DefaultTimeout();

        Assert.Equal([1, 2, 3], new[] { one.Attempt, two.Attempt, three.Attempt });
        Assert.Equal(["text.chat", "text.chat", "text.chat.small"], new[] { one.Method, two.Method, three.Method });
        Assert.Equal((TaskStatuses.Completed, "small", 3), (result.Status, result.AgentId, result.Attempts));
        Assert.Equal([(AttemptOutcomes.Error, "text.chat"), (AttemptOutcomes.Error, "text.chat"), (AttemptOutcomes.Completed, "text.chat.small")],
            result.Route!.Select(e => (e.Outcome, e.Method!)));
        Assert.Equal(0, _dispatcher.InFlightCount);
        Assert.All([first, second, third], agent => Assert.Equal(0, agent.Pending));
    }

    [Fact]
    public async Task Submit_WholeChainWithoutAgents_LastHopsStatusAndEveryHopInTheRoute()
    {
        var result = await _dispatcher.SubmitAsync(Request(), CancellationToken.None).DefaultTimeout();

        Assert.Equal((TaskStatuses.NoAgents, ErrorCodes.NoAgents, 0), (result.Status, result.Error?.Code, result.Attempts));
        Assert.Equal(["text.chat", "text.chat.small"], result.Route!.Select(e => e.Method!)); // the last hop's own refusal is the result
        Assert.All(result.Route!, e => Assert.Equal(AttemptOutcomes.Skipped, e.Outcome));
        Assert.Equal(2, _counters.Fallbacks);
    }

    [Fact]
    public async Task Submit_ChainExpandedFromTheFile_ReachesTheFallbacksFallback()
    {
        _registry.Register("c-e", "echo", ["text.echo"], 2, NoMetadata);

        var task = _dispatcher.SubmitAsync(Request(), CancellationToken.None);
        var (agent, sent) = await _channel.NextAsync();
        Complete(agent, sent);
        var result = await task.DefaultTimeout();

        Assert.Equal(("text.echo", TaskStatuses.Completed), (sent.Method, result.Status));
        Assert.Equal(["text.chat", "text.chat.small", "text.echo"], result.Route!.Select(e => e.Method!));
    }

    [Fact]
    public async Task Submit_RequestsOwnFallbacks_ReplaceTheFilesChain()
    {
        _registry.Register("c-s", "small", ["text.chat.small"], 2, NoMetadata);
        _registry.Register("c-x", "other", ["text.other"], 2, NoMetadata);

        var task = _dispatcher.SubmitAsync(Request(fallbacks: ["text.other"]), CancellationToken.None);
        var (agent, sent) = await _channel.NextAsync();
        Complete(agent, sent);
        var result = await task.DefaultTimeout();

        Assert.Equal(("text.other", "other"), (sent.Method, result.AgentId));
    }

    [Fact]
    public async Task Submit_NoFallbacks_RouteEntriesNameNoMethod()
    {
        _registry.Register("c-e", "echo", ["text.echo"], 2, NoMetadata);

        var task = _dispatcher.SubmitAsync(Request("text.echo"), CancellationToken.None);
        var (agent, sent) = await _channel.NextAsync();
        Complete(agent, sent);
        var result = await task.DefaultTimeout();

        Assert.Null(Assert.Single(result.Route!).Method);
        Assert.Equal(0, _counters.Fallbacks);
    }

    [Fact]
    public async Task Submit_Cancelled_DoesNotFallBack()
    {
        _registry.Register("c-a", "a", ["text.chat"], 2, NoMetadata);
        _registry.Register("c-s", "small", ["text.chat.small"], 2, NoMetadata);
        using var cancel = new CancellationTokenSource();

        var task = _dispatcher.SubmitAsync(Request(), cancel.Token);
        await _channel.NextAsync();
        await cancel.CancelAsync();
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Cancelled, result.Status);
        Assert.True(_channel.IsEmpty);
        Assert.Equal(0, _counters.Fallbacks);
    }

    [Fact]
    public async Task Submit_DeadlinePassed_DoesNotFallBack()
    {
        _registry.Register("c-a", "a", ["text.chat"], 2, NoMetadata);
        _registry.Register("c-s", "small", ["text.chat.small"], 2, NoMetadata);
        var request = new TaskRequest { Method = "text.chat", Payload = Request().Payload, DeadlineMs = 1000, TimeoutMs = 5000 };

        var task = _dispatcher.SubmitAsync(request, CancellationToken.None);
        var (_, sent) = await _channel.NextAsync();
        _time.Advance(TimeSpan.FromMilliseconds(1000)); // the attempt's timeout, cut to the deadline, fires
        var result = await task.DefaultTimeout();

        Assert.Equal((1000, TaskStatuses.Timeout, ErrorCodes.DeadlineExceeded), (sent.TimeoutMs, result.Status, result.Error?.Code));
        Assert.True(_channel.IsEmpty); // nothing sent to text.chat.small
        Assert.Equal(0, _counters.Fallbacks);
    }

    [Theory]
    [InlineData(new[] { "text.chat" }, "'text.chat' falls back to itself.")]
    [InlineData(new[] { "text.echo", "text.echo" }, "'text.echo' is listed twice.")]
    [InlineData(new[] { "Text.Echo" }, "'Text.Echo' is not a valid capability name")]
    [InlineData(new[] { "a", "b", "c", "d", "e", "f", "g", "h", "i" }, "at most 8 capabilities; got 9.")]
    public async Task Submit_BadFallbacks_Rejected(string[] fallbacks, string problem)
    {
        _registry.Register("c-a", "a", ["text.chat"], 2, NoMetadata);

        var result = await _dispatcher.SubmitAsync(Request(fallbacks: fallbacks), CancellationToken.None).DefaultTimeout();

        Assert.Equal((TaskStatuses.Rejected, ErrorCodes.InvalidFallbacks), (result.Status, result.Error?.Code));
        Assert.StartsWith("fallbacks: ", result.Error!.Message, StringComparison.Ordinal);
        Assert.Contains(problem, result.Error.Message);
        Assert.True(_channel.IsEmpty);
    }
}
