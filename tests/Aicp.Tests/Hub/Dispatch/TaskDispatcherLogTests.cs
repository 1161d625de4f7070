using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Aicp.Tests.Hub.Dispatch;

/// <summary>
/// What the dispatcher writes to the log (docs/OBSERVABILITY.md, "Logs"): an operator reads these lines to follow a task
/// and to see completions and sends that went wrong. Each event carries the ids that tie it to the task.
/// </summary>
public sealed class TaskDispatcherLogTests
{
    private readonly DispatcherFixture _f = new();

    private CapturingLoggerProvider.Entry Single(int eventId) => Assert.Single(_f.Logs.Entries, e => e.EventId.Id == eventId);

    [Fact]
    public async Task Attempts_EachEnd_LoggedWithTaskAttemptAgentAndOutcome()
    {
        _f.Create();
        var a = _f.Register("a");
        var b = _f.Register("b");

        var task = _f.Submit();
        var (first, sent) = await _f.Channel.NextAsync();
        _f.Answer(first, sent, ok: false);
        var (second, again) = await _f.Channel.NextAsync();
        _f.Answer(second, again);
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(
            [$"Task {result.TaskId} attempt 1 on {first.AgentId} ended error", $"Task {result.TaskId} attempt 2 on {second.AgentId} ended completed"],
            _f.Logged(2001));
        Assert.All(_f.Logs.Entries.Where(e => e.EventId.Id == 2001), e => Assert.Equal(LogLevel.Debug, e.Level));
        _f.AssertNothingHeld(a, b);
    }

    [Fact]
    public async Task Send_Throws_WarningWithTheExceptionTaskAndAgent()
    {
        _f.Create();
        var agent = _f.Register("broken");
        _f.Channel.Unreachable["broken"] = true;

        var result = await _f.Submit().DefaultTimeout();

        var entry = Single(2002);
        Assert.Equal((LogLevel.Warning, $"Sending task {result.TaskId} to agent broken failed"), (entry.Level, entry.Message));
        Assert.IsType<IOException>(entry.Exception);
        Assert.Equal([$"Task {result.TaskId} attempt 1 on broken ended error"], _f.Logged(2001));
        _f.AssertNothingHeld(agent);
    }

    [Fact]
    public async Task Completion_ForAnAttemptThatEndedOrNeverWas_LoggedAsLate()
    {
        _f.Create();
        var agent = _f.Register("a");
        var task = _f.Submit();
        var (_, sent) = await _f.Channel.NextAsync();
        _f.Answer(agent, sent);
        await task.DefaultTimeout();

        _f.Answer(agent, sent); // the same answer again: the attempt is over
        _f.Dispatcher.Complete(agent.ConnectionId, new TaskCompletion { TaskId = "no-such-task", Attempt = 7, Ok = true });
        _f.Dispatcher.Complete(agent.ConnectionId, new TaskCompletion { TaskId = null!, Attempt = 3, Ok = true }); // a malformed frame

        Assert.Equal(
            [$"Late completion for task {sent.TaskId} attempt 1 discarded", "Late completion for task no-such-task attempt 7 discarded",
                "Late completion for task  attempt 3 discarded"],
            _f.Logged(2003));
        Assert.Equal(3, _f.Counters.LateCompletions);
    }

    [Fact]
    public async Task Completion_FromAnotherAgentsConnection_WarningWithTheConnection()
    {
        _f.Create();
        var owner = _f.Register("owner");
        var other = _f.Register("other");
        var task = _f.Submit(DispatcherFixture.Request(strategy: "round-robin"));
        var (picked, sent) = await _f.Channel.NextAsync();
        var stranger = picked == owner ? other : owner;

        _f.Answer(stranger, sent);
        Assert.False(task.IsCompleted);
        var chunk = await _f.Dispatcher.PartialAsync(stranger.ConnectionId, new TaskPartial { TaskId = sent.TaskId, Attempt = 1 }, CancellationToken.None);
        _f.Answer(picked, sent);
        await task.DefaultTimeout();

        Assert.False(chunk);
        var expected = $"Completion for task {sent.TaskId} from {stranger.ConnectionId}, which was not assigned it, ignored";
        Assert.Equal([expected, expected], _f.Logged(2004));
        Assert.All(_f.Logs.Entries.Where(e => e.EventId.Id == 2004), e => Assert.Equal(LogLevel.Warning, e.Level));
        Assert.Equal(2, _f.Counters.ForeignCompletions);
    }

    [Fact]
    public async Task Cancel_CannotBeSent_LoggedAndTheTaskEndsAnyway()
    {
        _f.Create();
        var agent = _f.Register("a");
        _f.Channel.CancelUnreachable["a"] = true;
        using var cancel = new CancellationTokenSource();
        var task = _f.Submit(cancellationToken: cancel.Token);
        var (_, sent) = await _f.Channel.NextAsync();

        await cancel.CancelAsync();
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Cancelled, result.Status);
        await TestTimeouts.Eventually(() => _f.Logged(2005).Count == 1, "the failed Cancel logged");
        var entry = Single(2005);
        Assert.Equal((LogLevel.Debug, $"Cancel for task {sent.TaskId} to agent a could not be sent"), (entry.Level, entry.Message));
        Assert.IsType<IOException>(entry.Exception);
        _f.AssertNothingHeld(agent);
    }

    [Fact]
    public async Task Fallback_EachHopLoggedWithWhyTheTaskMovedOn()
    {
        _f.Create();
        var agent = _f.Registry.Register("c-small", "small", ["text.small"], 2, new Dictionary<string, string>()).Agent;
        var request = DispatcherFixture.Request();
        request = new TaskRequest { Method = request.Method, Payload = request.Payload, Fallbacks = ["text.none", "text.small"] };

        var task = _f.Submit(request);
        var (_, sent) = await _f.Channel.NextAsync();
        _f.Answer(agent, sent);
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(
            [$"Task {result.TaskId} fell back from {DispatcherFixture.Method} to text.none (no_agents)", $"Task {result.TaskId} fell back from text.none to text.small (no_agents)"],
            _f.Logged(2007));
    }

    [Fact]
    public async Task Fallback_AfterTheAttemptsFailed_LoggedWithTheLastError()
    {
        _f.Create();
        var agent = _f.Register("a");
        var small = _f.Registry.Register("c-small", "small", ["text.small"], 2, new Dictionary<string, string>()).Agent;
        var request = DispatcherFixture.Request();
        request = new TaskRequest { Method = request.Method, Payload = request.Payload, MaxAttempts = 1, Fallbacks = ["text.small"] };

        var task = _f.Submit(request);
        var (_, sent) = await _f.Channel.NextAsync();
        _f.Answer(agent, sent, ok: false);
        var (_, next) = await _f.Channel.NextAsync();
        _f.Answer(small, next);
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal([$"Task {result.TaskId} fell back from {DispatcherFixture.Method} to text.small (model_error)"], _f.Logged(2007));
    }
}
