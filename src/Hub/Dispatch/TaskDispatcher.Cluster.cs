using Aicp.Hub.Cluster;
using Aicp.Hub.Observability;
using Aicp.Hub.Routing;
using Aicp.Protocol;

namespace Aicp.Hub.Dispatch;

// Dispatch across the nodes of a cluster (docs/CLUSTER.md). The asker's attempt on another node's agent
// (RunRemoteAttemptAsync), and the owner's side: an attempt another node sends to one of this node's agents
// (RunForPeerAsync), run as any local attempt once its slot is taken here.
internal sealed partial class TaskDispatcher
{
    /// <summary>
    /// Sends one attempt to another node's agent and waits for its end; null when that node refused it (the agent was
    /// full, draining or gone there): nothing ran, and the task picks again.
    /// </summary>
    private async Task<AttemptResult?> RunRemoteAttemptAsync(TaskRun run, RemoteChoice remote, int number, int timeoutMs)
    {
        var sentAt = _time.GetTimestamp();
        run.Stream?.BeginAttempt(number);
        RemoteEnd ended;
        try
        {
            // Stryker disable once Boolean : the hub runs without a synchronization context
            ended = await _remote!.RunAsync(remote, run.TaskId, number, run.Method, run.Request.Payload, timeoutMs, run.Stream, run.CancellationToken)
                .ConfigureAwait(false);
        }
        finally
        {
            run.Stream?.EndAttempt(number); // no chunk of this attempt is taken from here on
        }

        if (ended.Refused)
        {
            Log.RemoteRefused(_logger, run.TaskId, number, remote.Agent.Id, remote.Node, ended.End.Error?.Code ?? "");
            _telemetry.RemoteRefused();
            return null;
        }

        _telemetry.RemoteAttemptRan(run.TotalAttempts, run.Method);
        var end = ended.End;
        var ms = _time.GetElapsedTime(sentAt).TotalMilliseconds;
        Log.AttemptEnded(_logger, run.TaskId, number, remote.Agent.Id, end.Outcome);
        run.AddRoute(new RouteEntry
        {
            AgentId = remote.Agent.Id, Method = run.HasChain ? run.Method : null, Node = remote.Node, Outcome = end.Outcome, Ms = Math.Round(ms, 3),
            Strategy = run.Strategy.Name, Candidates = remote.Candidates, Pending = remote.Load, Error = end.Error,
        });
        // Stryker disable once Boolean : only a hedging round reads Hedge, and remote attempts are never hedged
        return new AttemptResult(end, remote.Agent.Id, Hedge: false, ended.NodeLeft);
    }

    /// <summary>
    /// Runs an attempt another node sent to one of this node's agents: takes the agent's slot here (this node is the
    /// only one that does, so <c>maxConcurrency</c> holds cluster-wide), sends <c>Execute</c>, waits for its end, and
    /// answers with the end, or with a refusal when the agent cannot take it. The attempt counts in this node's
    /// metrics and in the agent's health, as any attempt on it; the task and its result belong to the asker.
    /// </summary>
    /// <param name="sendChunk">For a streamed attempt: sends a chunk of the agent's output to the asker, in order; the
    /// answer is returned after the last chunk was sent.</param>
    public async Task<PeerMessage> RunForPeerAsync(PeerMessage execute, string self, Func<TaskPayload, Task> sendChunk, CancellationToken cancellationToken)
    {
        var method = execute.Method!;
        var agent = _registry.GetById(execute.AgentId!);
        if (agent is null || !agent.Capabilities.Contains(method))
        {
            return Refusal(execute, self, $"Agent '{execute.AgentId}' does not serve '{method}' on node '{self}' (any more).");
        }

        var load = agent.Pending;
        if (!agent.TryAcquireSlot())
        {
            return Refusal(execute, self, $"Agent '{agent.AgentId}' on node '{self}' has no free slot (or is draining, or its circuit is open).");
        }

        var rules = _rules.Current;
        _strategies.TryGet(rules.StrategyFor(method, _options), out var strategy);
        var timeoutMs = execute.TimeoutMs!.Value;
        var request = new TaskRequest { Method = method, Payload = execute.Payload, TimeoutMs = timeoutMs };

        // A streamed attempt writes into a stream of its own here (the same buffer, back-pressure and stall timeout as a
        // local one), which a relay empties to the asker chunk by chunk.
        var stream = execute.Stream == true ? new TaskStream(_options.Streaming, _time, cancellationToken) : null;
        stream?.Started(execute.TaskId);
        var relay = stream is null ? null : RelayAsync(stream, sendChunk);
        var token = stream?.Token ?? cancellationToken;
        var run = new TaskRun(execute.TaskId, request, method, strategy!, timeoutMs, maxAttempts: 1, _time.GetTimestamp(), long.MaxValue,
            DispatchFor(method), token, stream, numbersBefore: execute.Attempt - 1) { ForPeer = true };
        var number = run.StartAttempt(agent.AgentId);
        var result = await RunAttemptAsync(run, new Acquisition(agent, load, new PickScores(0, load), "", null), number, timeoutMs, hedge: false, token)
            .ConfigureAwait(false);
        var end = result.End;
        if (stream is not null)
        {
            if (end.Outcome == AttemptOutcomes.Cancelled && stream.Failure is { } failure)
            {
                end = new AttemptEnd(AttemptOutcomes.Error, null, failure); // the relay fell behind: not the asker's cancel
            }

            stream.Complete(new TaskResult { TaskId = execute.TaskId, Status = end.Outcome });
            await relay!.ConfigureAwait(false); // every chunk sent before the answer
        }

        return new PeerMessage
        {
            Type = PeerMessage.Result, From = self, TaskId = execute.TaskId, Attempt = execute.Attempt, Outcome = end.Outcome,
            ResultPayload = end.Result, Error = end.Error,
        };
    }

    /// <summary>Sends the chunks of a streamed attempt run for another node as they are taken from its agent.</summary>
    private static async Task RelayAsync(TaskStream stream, Func<TaskPayload, Task> sendChunk)
    {
        await foreach (var item in stream.ReadAllAsync().ConfigureAwait(false))
        {
            if (item.Chunk is { } chunk)
            {
                await sendChunk(chunk).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Waits <paramref name="pause"/>; false when the submitter cancelled meanwhile.</summary>
    private async ValueTask<bool> PauseAsync(TimeSpan pause, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(pause, _time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static PeerMessage Refusal(PeerMessage execute, string self, string why) => new()
    {
        Type = PeerMessage.Refused, From = self, TaskId = execute.TaskId, Attempt = execute.Attempt, Error = TaskError.Of(ErrorCodes.RemoteRefused, why),
    };
}
