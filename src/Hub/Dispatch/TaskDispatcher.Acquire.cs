using Aicp.Hub.Cluster;
using Aicp.Hub.Health;
using Aicp.Hub.Registry;
using Aicp.Hub.Routing;
using Aicp.Protocol;

namespace Aicp.Hub.Dispatch;

internal sealed partial class TaskDispatcher
{
    /// <summary>The outcome of looking for an agent slot: an agent with its load and pick details, or a final status.</summary>
    private readonly record struct Acquisition(AgentState? Agent, int Load, PickScores Scores, string Status, TaskError? Error, RemoteChoice? Remote = null)
    {
        public static Acquisition Fail(string status, string code, string message) => new(null, 0, default, status, TaskError.Of(code, message));

        /// <summary>Another node's agent: its node takes the slot (or refuses) when the attempt arrives.</summary>
        // Stryker disable once String : the status is read only when neither a local nor a remote agent was acquired
        public static Acquisition OnNode(RemoteChoice remote) => new(null, 0, default, "", null, remote);
    }

    /// <summary>What the pick saw of its agent, written into the attempt's route entry when the attempt ends.</summary>
    private readonly record struct PickScores(int Candidates, int Pending, double LatencyEstimateMs = 0, double? PredictedMs = null, double Trust = 0,
        string? Circuit = null, double? SuccessRate = null, double? SlowStart = null);

    /// <summary>
    /// Takes a slot on an agent picked by the task's strategy among the agents it has not tried, or, on a node of a
    /// cluster, proposes another node's agent when it is strictly less loaded (<see cref="TryPick"/>). When every untried
    /// agent is at capacity the task waits in the capability's bounded queue until a slot frees up, or until
    /// <paramref name="timeoutMs"/> passes (the attempt timeout, already cut to the task's deadline: when the deadline is
    /// what ends the wait, the code says so).
    /// </summary>
    private async ValueTask<Acquisition> AcquireAsync(TaskRun run, int timeoutMs)
    {
        var method = run.Method;
        var waitUntil = _time.GetTimestamp() + MsToTicks(timeoutMs);
        var deadlineBinds = run.Deadline <= waitUntil;
        var hopsLeft = -1;
        var acrossNodes = _remote is { Enabled: true } && !_options.Cluster.PreferLocal;
        while (true)
        {
            var pool = _registry.GetPool(method);
            if (pool is null)
            {
                return _remote is not null
                    ? await WaitForRemoteAsync(run, timeoutMs, waitUntil, deadlineBinds)
                    : Acquisition.Fail(TaskStatuses.NoAgents, ErrorCodes.NoAgents, $"No live agent serves '{method}'.");
            }

            var pickStarted = _time.GetTimestamp();
            var picked = TryPick(pool, run.Strategy, run.Tried.Span, acrossNodes, out var anyUntried);
            _telemetry.RoutingDecided(_time.GetElapsedTime(pickStarted));
            if (picked.Agent is not null || picked.Remote is not null)
            {
                return picked;
            }

            if (_remote?.Pick(method, run.Tried.Span, _random) is { } remote)
            {
                return Acquisition.OnNode(remote); // no local slot now: another node's free agent before waiting here
            }

            if (!anyUntried)
            {
                return _remote is not null
                    ? await WaitForRemoteAsync(run, timeoutMs, waitUntil, deadlineBinds)
                    : Acquisition.Fail(TaskStatuses.NoAgents, ErrorCodes.NoAgents, $"No untried live agent serves '{method}'.");
            }

            if (hopsLeft >= 0)
            {
                pool.Waiters.PassOn(hopsLeft); // this task could not use the slot it was woken for
            }

            var waiter = pool.Waiters.TryEnqueue();
            if (waiter is null)
            {
                return Acquisition.Fail(TaskStatuses.Overloaded, ErrorCodes.Overloaded, $"The wait queue for '{method}' is full ({pool.Waiters.Capacity}).");
            }

            // A slot may have freed between the pick and the enqueue: look once more before sleeping.
            picked = TryPick(pool, run.Strategy, run.Tried.Span, acrossNodes: false, out _);
            if (picked.Agent is not null)
            {
                waiter.Leave();
                return picked;
            }

            var remaining = _time.GetElapsedTime(_time.GetTimestamp(), waitUntil);
            try
            {
                // Stryker disable once Equality : a wait of zero on a task not yet woken throws the same TimeoutException at once
                if (remaining <= TimeSpan.Zero)
                {
                    throw new TimeoutException();
                }

                // Stryker disable once Boolean : the hub runs without a synchronization context
                hopsLeft = await waiter.Woken.WaitAsync(remaining, _time, run.CancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                waiter.Leave();
                return deadlineBinds
                    ? Acquisition.Fail(TaskStatuses.Timeout, ErrorCodes.DeadlineExceeded,
                        $"The deadline ({run.Request.DeadlineMs} ms) passed while the task waited for a slot on '{method}'; it was not sent.")
                    : Acquisition.Fail(TaskStatuses.Timeout, ErrorCodes.QueueTimeout, $"No agent slot for '{method}' freed up within {timeoutMs} ms.");
            }
            catch (OperationCanceledException)
            {
                waiter.Leave();
                return Acquisition.Fail(TaskStatuses.Cancelled, ErrorCodes.Cancelled, "The submitter cancelled the task.");
            }
        }
    }

    /// <summary>
    /// No agent of this node can take the task: another node's agent, as soon as one is free as far as this node knows
    /// (its view is refreshed each heartbeat, and refusals mark agents tried), looking again with a growing pause (2 to
    /// 50 ms) until the attempt's wait ends. <c>no_agents</c> when no other node has an untried agent of the capability.
    /// </summary>
    private async ValueTask<Acquisition> WaitForRemoteAsync(TaskRun run, int timeoutMs, long waitUntil, bool deadlineBinds)
    {
        var method = run.Method;
        var pause = TimeSpan.FromMilliseconds(2);
        while (true)
        {
            if (_remote!.Pick(method, run.Tried.Span, _random) is { } remote)
            {
                return Acquisition.OnNode(remote);
            }

            if (!_remote.Serves(method, run.Tried.Span))
            {
                return Acquisition.Fail(TaskStatuses.NoAgents, ErrorCodes.NoAgents, $"No untried live agent serves '{method}' on any node.");
            }

            var remaining = _time.GetElapsedTime(_time.GetTimestamp(), waitUntil);
            if (remaining <= TimeSpan.Zero)
            {
                return deadlineBinds
                    ? Acquisition.Fail(TaskStatuses.Timeout, ErrorCodes.DeadlineExceeded,
                        $"The deadline ({run.Request.DeadlineMs} ms) passed while the task waited for a slot on '{method}'; it was not sent.")
                    : Acquisition.Fail(TaskStatuses.Timeout, ErrorCodes.QueueTimeout, $"No agent slot for '{method}' on any node freed up within {timeoutMs} ms.");
            }

            try
            {
                // Stryker disable once Boolean : the hub runs without a synchronization context
                await Task.Delay(remaining < pause ? remaining : pause, _time, run.CancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return Acquisition.Fail(TaskStatuses.Cancelled, ErrorCodes.Cancelled, "The submitter cancelled the task.");
            }

            pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 50));
        }
    }

    /// <summary>
    /// The strategy's pick among this node's agents, with its slot taken. With <paramref name="acrossNodes"/> the
    /// strategy's agent is weighed against another node's, proposed by power of two choices
    /// (<see cref="RemoteAgents.Pick"/>): the remote agent is chosen (an acquisition <see cref="Acquisition.OnNode"/>,
    /// no local slot taken) only when its load share is strictly lower than the local agent's (pending over
    /// <c>maxConcurrency</c>) by enough to be worth the hop (<see cref="WorthTheHop"/>), or when the local pick was
    /// made in panic (no healthy local agent; remote agents are all healthy). Ties stay local, and an idle healthy
    /// local agent is taken without looking at the other nodes.
    /// </summary>
    private Acquisition TryPick(CapabilityPool pool, IRoutingStrategy strategy, ReadOnlySpan<string> tried, bool acrossNodes, out bool anyUntried)
    {
        var context = new RoutingContext(pool, pool.Agents, tried, _random, _time);
        anyUntried = context.HasUntriedAgent;
        RemoteChoice? remote = null;
        var proposed = false;
        for (var i = 0; i < PickRetries; i++)
        {
            var agent = context.Pick(strategy, out var panicked);
            if (agent is null)
            {
                break;
            }

            var now = context.Now;
            var pending = agent.Pending;
            // Stryker disable once Equality : an idle local agent is never strictly more loaded than a remote one, so looking wins nothing
            if (acrossNodes && (pending > 0 || panicked))
            {
                if (!proposed)
                {
                    // Stryker disable once Boolean : a proposal drawn again for a retry is as random as the first (one draw per task saves work)
                    (remote, proposed) = (_remote!.Pick(pool.Method, tried, _random), true);
                }

                if (remote is { } r && (panicked || (RemoteChoice.LessLoaded(r.Load, r.Agent.MaxConcurrency, pending, agent.MaxConcurrency)
                        && WorthTheHop(agent, pool.Method, now, pending, r))))
                {
                    return Acquisition.OnNode(r);
                }
            }

            var load = pending + agent.ReportedQueueDepth(now);
            var predicted = AgentScores.PredictedCompletionMs(agent, pool.Method, now);
            var circuit = agent.Circuit.StateAt(now);
            if (agent.TryAcquireSlot(panicked))
            {
                return new Acquisition(agent, load, new PickScores(context.Candidates.Length, pending,
                    LatencyEstimateMs: Math.Round(agent.LatencyMs(pool.Method, now), 3), PredictedMs: Math.Round(predicted, 3),
                    Trust: Math.Round(agent.Trust.Value, 4), Circuit: CircuitStateNames.Of(circuit),
                    SuccessRate: Math.Round(agent.SuccessRate(now), 4), SlowStart: Math.Round(agent.SlowStart(now), 4)), "", null);
            }

            // Lost a race for the slot (or the half-open probe): look again with the pool as it is now.
            context = new RoutingContext(pool, pool.Agents, tried, _random, _time);
        }

        return default;
    }

    /// <summary>
    /// Whether a less loaded remote agent saves more than the hop costs (<see cref="ClusterOptions.HopCostMs"/>): the
    /// difference of the load shares times the local agent's latency estimate for <paramref name="method"/>.
    /// </summary>
    private bool WorthTheHop(AgentState local, string method, long now, int localPending, RemoteChoice remote)
    {
        var shareGap = (double)localPending / local.MaxConcurrency - (double)remote.Load / remote.Agent.MaxConcurrency;
        return shareGap * local.LatencyMs(method, now) > _options.Cluster.HopCostMs;
    }
}
