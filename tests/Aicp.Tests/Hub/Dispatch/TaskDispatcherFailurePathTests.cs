using Aicp.Hub.Health;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Dispatch;

/// <summary>
/// The rare paths between picking an agent and hearing back from it: the slot lost to another task, the send that
/// fails, the agent that leaves in between. Each must end in a clear result with every slot and assignment given back.
/// </summary>
public sealed class TaskDispatcherFailurePathTests
{
    private const string Method = DispatcherFixture.Method;

    private readonly DispatcherFixture _f = new();

    [Fact]
    public async Task Submit_SendingTheAssignmentFails_FailsOverAtOnceWithTheSendFailedCode()
    {
        var strategy = new ScriptedStrategy((_, candidates) => candidates.FirstOrDefault(a => a.AgentId == "broken") ?? candidates[0]);
        _f.Create(strategies: strategy);
        var broken = _f.Register("broken");
        var healthy = _f.Register("healthy");
        _f.Channel.Unreachable["broken"] = true;

        var task = _f.Submit(DispatcherFixture.Request(strategy: ScriptedStrategy.StrategyName));
        var (agent, sent) = await _f.Channel.NextAsync(); // without any time passing: no wait for the attempt timeout
        Assert.Same(healthy, agent);
        Assert.Equal(2, sent.Attempt);
        _f.Answer(agent, sent);
        var result = await task.DefaultTimeout();

        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal("healthy", result.AgentId);
        Assert.Equal(2, result.Attempts);
        Assert.Equal([AttemptOutcomes.Error, AttemptOutcomes.Completed], result.Route.Select(r => r.Outcome));
        Assert.Equal(ErrorCodes.SendFailed, result.Route[0].Error?.Code);
        Assert.Equal(1, broken.Failed); // a send that fails counts against the agent as a failed attempt
        _f.AssertNothingHeld(broken, healthy);
    }

    [Fact]
    public async Task Submit_OnlyAgentUnreachable_FailedWithSendFailed()
    {
        var agent = _f.Register("broken");
        _f.Channel.Unreachable["broken"] = true;

        var result = await _f.Submit().DefaultTimeout();

        Assert.Equal(TaskStatuses.Failed, result.Status);
        Assert.Equal(ErrorCodes.SendFailed, result.Error?.Code);
        Assert.Equal("The assignment could not be sent to the agent.", result.Error?.Message);
        Assert.Equal(1, result.Attempts);
        Assert.True(_f.Channel.IsEmpty);
        _f.AssertNothingHeld(agent);
    }

    [Fact]
    public async Task Submit_SlotTakenByAnotherTaskBetweenPickAndTake_TakesAnotherAgentsSlotAtOnce()
    {
        // The first pick returns a's only free slot, which another task takes before this one can.
        var strategy = new ScriptedStrategy((n, candidates) =>
        {
            if (n == 1)
            {
                Assert.True(candidates[0].TryAcquireSlot());
            }

            return candidates[0];
        });
        _f.Create(strategies: strategy);
        var a = _f.Register("a", maxConcurrency: 1);
        var b = _f.Register("b", maxConcurrency: 1);

        var task = _f.Submit(DispatcherFixture.Request(strategy: ScriptedStrategy.StrategyName));
        var (agent, sent) = await _f.Channel.NextAsync();

        Assert.Same(b, agent); // the look after the lost race sees a full
        Assert.Equal(2, strategy.Picks);
        Assert.Equal(0, _f.Pool.Waiters.Count);
        _f.Answer(agent, sent);
        Assert.Equal(TaskStatuses.Completed, (await task.DefaultTimeout()).Status);
        a.ReleaseSlot();
        _f.AssertNothingHeld(a, b);
    }

    [Fact]
    public async Task Submit_PicksKeepLosingTheRace_GivesUpAfterFourTriesWaitsAndTakesTheNextFreedSlot()
    {
        // The first eight picks each return a free agent whose slot another task then takes first.
        var strategy = new ScriptedStrategy((n, candidates) =>
        {
            if (n <= 8)
            {
                Assert.True(candidates[0].TryAcquireSlot());
            }

            return candidates[0];
        });
        _f.Create(strategies: strategy);
        var agents = Enumerable.Range(0, 10).Select(i => _f.Register($"a{i}", maxConcurrency: 1)).ToArray();

        var racing = Task.Run(() => _f.Submit(DispatcherFixture.Request(strategy: ScriptedStrategy.StrategyName)));
        await _f.QueuedAsync(1);

        Assert.Equal(2 * 4, strategy.Picks); // four tries before joining the queue, four on the look before sleeping
        Assert.True(_f.Channel.IsEmpty);
        Assert.Equal(8, agents.Count(a => a.Pending == 1)); // two agents still free: the task sleeps until a slot frees

        var other = _f.Submit(DispatcherFixture.Request(strategy: "least-loaded"));
        var (otherAgent, otherSent) = await _f.Channel.NextAsync();
        _f.Answer(otherAgent, otherSent); // its slot frees and wakes the waiting task
        var (agent, sent) = await _f.Channel.NextAsync();
        _f.Answer(agent, sent);

        Assert.Equal(TaskStatuses.Completed, (await other.DefaultTimeout()).Status);
        var result = await racing.DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(1, result.Attempts);
        Assert.Equal(9, strategy.Picks);
        foreach (var taken in agents.Take(8))
        {
            taken.ReleaseSlot();
        }

        _f.AssertNothingHeld(agents);
    }

    [Fact]
    public async Task Submit_AgentLeavesBetweenThePickAndTheSend_AttemptEndsDisconnectedAndNothingIsSent()
    {
        var agent = _f.Register("leaving");
        for (var i = 0; i < 5; i++)
        {
            agent.RecordCompletion(Method, 5, ok: false, _f.Time.GetUtcNow());
        }

        _f.Time.Advance(TimeSpan.FromSeconds(30)); // the break ends: the next task is the half-open probe
        _f.Registry.CircuitTransitioned += transition =>
        {
            if (transition.To == CircuitState.HalfOpen)
            {
                _f.Registry.RemoveConnection(agent.ConnectionId); // the agent disconnects just as its probe slot is taken
            }
        };

        var result = await _f.Submit(DispatcherFixture.Request(maxAttempts: 1)).DefaultTimeout();

        Assert.Equal(TaskStatuses.Failed, result.Status);
        Assert.Equal(ErrorCodes.AgentDisconnected, result.Error?.Code);
        Assert.Equal(1, result.Attempts);
        Assert.Equal(AttemptOutcomes.Disconnected, Assert.Single(result.Route).Outcome);
        Assert.True(_f.Channel.IsEmpty); // nothing was sent to the agent that had gone
        Assert.Null(_f.Registry.GetPool(Method));
        _f.AssertNothingHeld(agent);
    }

    [Fact]
    public async Task Submit_ManyTasksSomeFailing_EveryAttemptUntrackedFromItsAgent()
    {
        var agents = new[] { _f.Register("a"), _f.Register("b"), _f.Register("c") };
        var tasks = new List<Task<TaskResult>>();
        for (var i = 0; i < 12; i++)
        {
            tasks.Add(_f.Submit(DispatcherFixture.Request(maxAttempts: 2)));
            var (agent, sent) = await _f.Channel.NextAsync();
            Assert.Equal(1, agent.TrackedAssignments);
            _f.Answer(agent, sent, ok: i % 3 != 0);
            if (i % 3 == 0)
            {
                var (other, failover) = await _f.Channel.NextAsync();
                _f.Answer(other, failover);
            }
        }

        Assert.All(await Task.WhenAll(tasks).DefaultTimeout(), r => Assert.Equal(TaskStatuses.Completed, r.Status));
        _f.AssertNothingHeld(agents);
    }
}
