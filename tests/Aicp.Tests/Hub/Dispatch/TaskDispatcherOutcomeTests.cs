using System.Text.Json;
using Aicp.Hub.Health;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Dispatch;

/// <summary>
/// How each attempt ends and what the task's one result then says: the agent's answer (and answers that must not count),
/// a timeout, the submitter's cancel, the agent's disconnect, every agent tried. On a manual clock; nothing really waits.
/// </summary>
public sealed class TaskDispatcherOutcomeTests
{
    private const string Method = DispatcherFixture.Method;

    private readonly DispatcherFixture _f = new();

    private static TaskCompletion Completion(TaskAssignment sent, string answer) => new()
    {
        TaskId = sent.TaskId, Attempt = sent.Attempt, Ok = true, Result = TaskPayload.FromJson(JsonSerializer.SerializeToElement(answer)),
    };

    [Fact]
    public async Task Submit_Completed_ResultNamesTheAgentTheLatencyAndThePick()
    {
        var a = _f.Register("a");
        _f.Register("b");
        _f.Time.Advance(TimeSpan.FromSeconds(10)); // both past slow start
        var task = _f.Submit(DispatcherFixture.Request(strategy: "round-robin"));
        var (agent, sent) = await _f.Channel.NextAsync();
        _f.Time.Advance(TimeSpan.FromMilliseconds(40));
        _f.Answer(agent, sent);
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(sent.TaskId, result.TaskId);
        Assert.Matches("^[0-9a-f]{32}$", result.TaskId);
        Assert.Equal(agent.AgentId, result.AgentId);
        Assert.Equal(agent.AgentId, result.Result?.Deserialize<string>());
        Assert.Equal((1, "round-robin", 40.0), (result.Attempts, result.Strategy, result.LatencyMs));
        var entry = Assert.Single(result.Route);
        Assert.Equal((agent.AgentId, AttemptOutcomes.Completed, 40.0, "round-robin", 2, 0), (entry.AgentId, entry.Outcome, entry.Ms, entry.Strategy, entry.Candidates, entry.Pending));
        Assert.Equal(((string?)CircuitStateNames.Closed, (double?)1.0, (double?)1.0, TrustScore.Initial), (entry.Circuit, entry.SuccessRate, entry.SlowStart, entry.Trust));
        Assert.Null(entry.Hedge);
        Assert.Null(entry.Error);
        Assert.Equal(1, agent.Completed);
        Assert.Equal(40, agent.LatencyFor(Method)!.Milliseconds, 3);
        Assert.Equal(0, _f.Counters.Failovers);
        _f.AssertNothingHeld(a, _f.Registry.GetById("b")!);
    }

    [Fact]
    public async Task Complete_FromAnotherConnection_DiscardedAndCountedTheAgentsOwnAnswerStands()
    {
        var agent = _f.Register("a");
        var task = _f.Submit();
        var (_, sent) = await _f.Channel.NextAsync();

        _f.Dispatcher.Complete("c-intruder", Completion(sent, "forged"));
        Assert.False(task.IsCompleted);
        Assert.Equal((1L, 0L), (_f.Counters.ForeignCompletions, _f.Counters.LateCompletions));

        _f.Answer(agent, sent);
        var result = await task.DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal("a", result.Result?.Deserialize<string>());
        _f.AssertNothingHeld(agent);
    }

    [Fact]
    public async Task Complete_UnknownAttemptOrTaskOrAnswerAfterTheEnd_DiscardedAndCountedAsLate()
    {
        var agent = _f.Register("a");
        var task = _f.Submit();
        var (_, sent) = await _f.Channel.NextAsync();

        _f.Dispatcher.Complete(agent.ConnectionId, new TaskCompletion { TaskId = sent.TaskId, Attempt = 2, Ok = true }); // no such attempt
        _f.Dispatcher.Complete(agent.ConnectionId, new TaskCompletion { TaskId = null!, Attempt = 1, Ok = true });
        Assert.False(task.IsCompleted);
        Assert.Equal(2, _f.Counters.LateCompletions);

        _f.Answer(agent, sent);
        Assert.Equal("a", (await task.DefaultTimeout()).Result?.Deserialize<string>());
        _f.Answer(agent, sent); // the same answer again, after the task ended
        Assert.Equal((3L, 0L), (_f.Counters.LateCompletions, _f.Counters.ForeignCompletions));
        Assert.Equal(1, agent.Completed);
    }

    [Fact]
    public async Task Complete_ErrorWithoutDetails_FailedWithTheAgentErrorCode()
    {
        var agent = _f.Register("a");
        var task = _f.Submit(DispatcherFixture.Request(maxAttempts: 1));
        var (_, sent) = await _f.Channel.NextAsync();

        _f.Dispatcher.Complete(agent.ConnectionId, new TaskCompletion { TaskId = sent.TaskId, Attempt = sent.Attempt, Ok = false });
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Failed, result.Status);
        Assert.Equal(ErrorCodes.AgentError, result.Error?.Code);
        Assert.Equal("The agent reported an error.", result.Error?.Message);
        Assert.Equal(AttemptOutcomes.Error, Assert.Single(result.Route).Outcome);
        Assert.Equal(1, agent.Failed);
    }

    [Fact]
    public async Task Submit_AttemptTimesOutThenTheFailoverErrs_OnlyTheTimedOutAgentIsToldToCancel()
    {
        var agents = new[] { _f.Register("a"), _f.Register("b") };
        var task = _f.Submit(DispatcherFixture.Request(timeoutMs: 500, maxAttempts: 2));
        var (first, sent) = await _f.Channel.NextAsync();

        _f.Time.Advance(TimeSpan.FromMilliseconds(500));
        var (second, failover) = await _f.Channel.NextAsync();
        Assert.NotSame(first, second);
        _f.Answer(second, failover, ok: false);
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Failed, result.Status); // the last attempt's outcome decides
        Assert.Equal("model_error", result.Error?.Code);
        Assert.Equal(second.AgentId, result.AgentId);
        Assert.Equal([AttemptOutcomes.Timeout, AttemptOutcomes.Error], result.Route.Select(r => r.Outcome));
        Assert.Equal(ErrorCodes.AgentTimeout, result.Route[0].Error?.Code);
        Assert.Equal("The agent did not answer within the attempt timeout.", result.Route[0].Error?.Message);
        Assert.Equal((first.AgentId, sent.TaskId), Assert.Single(_f.Channel.Cancelled)); // an agent that answered has nothing to cancel
        Assert.Equal((1L, 0L, 0L, 1L), (first.TimedOut, first.Failed, second.TimedOut, second.Failed));
        Assert.Equal(1, _f.Counters.Failovers);
        _f.AssertNothingHeld(agents);
    }

    [Fact]
    public async Task Submit_SubmitterCancelsWhileTheAgentWorks_CancelledTheAgentToldAndNothingRecordedAgainstIt()
    {
        var agent = _f.Register("a");
        _f.Register("b");
        using var cancel = new CancellationTokenSource();
        var task = _f.Submit(DispatcherFixture.Request(), cancel.Token);
        var (working, sent) = await _f.Channel.NextAsync();

        await cancel.CancelAsync();
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Cancelled, result.Status);
        Assert.Equal(ErrorCodes.Cancelled, result.Error?.Code);
        Assert.Equal(1, result.Attempts); // no failover after a cancel
        Assert.Equal(AttemptOutcomes.Cancelled, Assert.Single(result.Route).Outcome);
        Assert.Equal("The submitter cancelled the task.", result.Route[0].Error?.Message);
        Assert.Equal((working.AgentId, sent.TaskId), Assert.Single(_f.Channel.Cancelled));
        Assert.True(_f.Channel.IsEmpty);
        Assert.Equal((0L, 0L, 0L), (working.Completed, working.Failed, working.TimedOut));
        Assert.Equal(TrustScore.Initial, working.Trust.Value);
        _f.AssertNothingHeld(agent, _f.Registry.GetById("b")!);
    }

    [Fact]
    public async Task Submit_AgentDisconnectsMidAttempt_FailsOverAtOnceAndTheLossIsNotCountedAsAFailure()
    {
        _f.Register("a");
        _f.Register("b");
        var task = _f.Submit();
        var (first, sent) = await _f.Channel.NextAsync();

        _f.Registry.RemoveConnection(first.ConnectionId);
        var (second, failover) = await _f.Channel.NextAsync();
        Assert.NotSame(first, second);
        Assert.Equal((sent.TaskId, 2), (failover.TaskId, failover.Attempt));
        _f.Answer(second, failover);
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(2, result.Attempts);
        Assert.Equal([AttemptOutcomes.Disconnected, AttemptOutcomes.Completed], result.Route.Select(r => r.Outcome));
        Assert.Equal(ErrorCodes.AgentDisconnected, result.Route[0].Error?.Code);
        Assert.Equal("The agent disconnected before answering.", result.Route[0].Error?.Message);
        Assert.Equal((0L, 0L), (first.Failed, first.TimedOut));
        _f.AssertNothingHeld(first, second);
    }

    [Fact]
    public async Task Submit_AttemptsSpentWithAnUntriedAgentLeft_EndsAfterMaxAttempts()
    {
        var agents = new[] { _f.Register("a"), _f.Register("b"), _f.Register("c") };
        var task = _f.Submit(DispatcherFixture.Request(maxAttempts: 2));
        var (first, sent) = await _f.Channel.NextAsync();
        _f.Answer(first, sent, ok: false);
        var (second, failover) = await _f.Channel.NextAsync();
        _f.Answer(second, failover, ok: false);
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Failed, result.Status);
        Assert.Equal(2, result.Attempts);
        Assert.True(_f.Channel.IsEmpty); // the third agent never got the task
        _f.AssertNothingHeld(agents);
    }

    [Fact]
    public async Task Submit_NoAgentServesTheMethod_NoAgentsAtOnceSayingSo()
    {
        var result = await _f.Submit().DefaultTimeout();

        Assert.Equal(TaskStatuses.NoAgents, result.Status);
        Assert.Equal(ErrorCodes.NoAgents, result.Error?.Code);
        Assert.Equal("No live agent serves 'image.label'.", result.Error?.Message);
        Assert.Equal(0, result.Attempts);
    }

    [Fact]
    public async Task Submit_EveryAgentTriedAndFailed_EndsWithTheLastAttemptsErrorNotNoAgents()
    {
        var agents = new[] { _f.Register("a"), _f.Register("b") };
        var task = _f.Submit(DispatcherFixture.Request(maxAttempts: 3));
        var (first, sent) = await _f.Channel.NextAsync();
        _f.Answer(first, sent, ok: false);
        var (second, failover) = await _f.Channel.NextAsync();
        _f.Answer(second, failover, ok: false);
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Failed, result.Status);
        Assert.Equal("model_error", result.Error?.Code);
        Assert.Equal(second.AgentId, result.AgentId);
        Assert.Equal(2, result.Attempts);
        Assert.Equal(2, result.Route.Count);
        Assert.True(_f.Channel.IsEmpty); // no agent got the task twice
        Assert.Equal(1, _f.Counters.Failovers);
        _f.AssertNothingHeld(agents);
    }
}
