using System.Collections.Concurrent;
using System.Threading.Channels;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Routing;
using Aicp.Protocol;

namespace Aicp.Hub.Cluster;

/// <summary>
/// The asker's side of dispatch across nodes: proposes another node's agent from the cluster view, sends it the
/// attempt, and waits for the owner's answer. The owner alone takes the agent's slot (or refuses), so
/// <c>maxConcurrency</c> holds cluster-wide; this side keeps the task's one result, the attempt's timer and the failover.
/// <list type="bullet">
/// <item>The proposal (<see cref="Pick"/>): power of two choices among the remote agents of the capability that are
/// healthy, not draining, not tried by the task and not full (nor refused an attempt of this node in the last
/// <see cref="RefusalHold"/>: <see cref="RemoteAgent.Refused"/>), by load share (<see cref="RemoteAgent.Load"/> over
/// <c>maxConcurrency</c>: the pending count their node last published, stale by up to a heartbeat, corrected by this
/// node's own attempts on them since). The candidates come from a <see cref="RemoteAgentIndex"/> built once per view.
/// Two random candidates keep several nodes, each with the same stale view, from herding onto one "best" agent.</item>
/// <item>An attempt ends with the owner's <c>result</c> or <c>refused</c>; when the owner's node leaves the view (its
/// heartbeat expired, it stopped, or Redis is unreachable) it ends at once as <c>disconnected</c>; without an answer
/// it ends <c>timeout</c> a grace period after its timeout (the owner's own timer normally answers first). A
/// cancelled attempt is cancelled on the owner too.</item>
/// </list>
/// </summary>
internal sealed class RemoteAgents
{
    /// <summary>How long past its timeout an attempt waits for the owner's answer.</summary>
    public static readonly TimeSpan AnswerGrace = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long an agent whose node refused an attempt counts as full here: 50 ms, the longest pause a refused task
    /// takes before it picks again, so the tasks of that pause pick other agents rather than draw the same refusal.
    /// </summary>
    public static readonly TimeSpan RefusalHold = TimeSpan.FromMilliseconds(50);

    [ThreadStatic]
    private static int[]? t_eligible;

    private readonly IClusterPeers _cluster;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<(string TaskId, int Attempt), Pending> _pending = new();
    private readonly ConcurrentDictionary<(string Node, string AgentId), RemoteSends> _sends = new();
    private readonly Lock _building = new();
    private readonly long _refusalHold;
    private RemoteAgentIndex? _index;

    public RemoteAgents(IClusterPeers cluster, TimeProvider time)
    {
        _cluster = cluster;
        _time = time;
        _refusalHold = (long)(RefusalHold.TotalSeconds * time.TimestampFrequency);
        Enabled = cluster.Enabled;
        cluster.MessageReceived += OnMessage;
        cluster.NodesLeft += OnNodesLeft;
    }

    /// <summary>Whether this hub is a node of a cluster; when it is not, nothing here runs on the dispatch path.</summary>
    public bool Enabled { get; }

    /// <summary>Attempts sent to other nodes and not answered yet.</summary>
    public int InFlight => _pending.Count;

    /// <summary>The index of the current view, built by the first caller that sees a new view.</summary>
    internal RemoteAgentIndex Index
    {
        get
        {
            var view = _cluster.View;
            var index = _index;
            if (index is not null && ReferenceEquals(index.View, view))
            {
                return index;
            }

            lock (_building)
            {
                view = _cluster.View;
                index = _index;
                if (index is null || !ReferenceEquals(index.View, view))
                {
                    _index = index = RemoteAgentIndex.Build(view, _sends);
                }

                return index;
            }
        }
    }

    /// <summary>
    /// Another node's agent for a task of <paramref name="method"/>, or null when none can take it: this hub is not a
    /// node of a cluster, or no remote agent of the capability is healthy, untried and (as far as this node knows) free.
    /// Of two candidates drawn uniformly at random, the one with the lower load share; on a tie the first drawn.
    /// </summary>
    public RemoteChoice? Pick(string method, ReadOnlySpan<string> tried, IRandomSource random)
    {
        if (!Enabled || !_cluster.Connected)
        {
            return null; // not a node of a cluster, or Redis is not reachable now: nothing could be sent
        }

        var agents = Index.For(method);
        if (agents.IsEmpty)
        {
            return null;
        }

        var eligible = t_eligible;
        if (eligible is null || eligible.Length < agents.Length)
        {
            eligible = t_eligible = new int[Math.Max(16, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)agents.Length))];
        }

        var count = 0;
        var now = _time.GetTimestamp();
        for (var k = 0; k < agents.Length; k++)
        {
            var agent = agents[k];
            if (!agent.IsFull(now, _refusalHold) && (tried.IsEmpty || !tried.Contains(agent.Agent.Id)))
            {
                eligible[count++] = k;
            }
        }

        if (count == 0)
        {
            return null;
        }

        var i = random.Next(count);
        var first = agents[eligible[i]];
        if (count == 1)
        {
            return new RemoteChoice(first, first.Load, 1);
        }

        var j = random.Next(count - 1);
        var second = agents[eligible[j >= i ? j + 1 : j]]; // uniform over the others
        var (firstLoad, secondLoad) = (first.Load, second.Load);
        return RemoteChoice.LessLoaded(secondLoad, second.Agent.MaxConcurrency, firstLoad, first.Agent.MaxConcurrency)
            ? new RemoteChoice(second, secondLoad, count)
            : new RemoteChoice(first, firstLoad, count);
    }

    /// <summary>Whether another node has an agent of <paramref name="method"/> that is healthy, serving and untried, free or not.</summary>
    public bool Serves(string method, ReadOnlySpan<string> tried)
    {
        if (!Enabled)
        {
            return false;
        }

        foreach (var agent in Index.For(method))
        {
            if (!tried.Contains(agent.Agent.Id))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Sends attempt <paramref name="attempt"/> of the task to <paramref name="remote"/>'s node and waits for its end.
    /// With a <paramref name="stream"/>, the agent's chunks the owner relays go into it in order, each waiting for room
    /// as a local one does, all of them before the end is returned; a submitter more than four buffers behind ends the
    /// task <c>slow_consumer</c>.
    /// </summary>
    public async Task<RemoteEnd> RunAsync(RemoteChoice remote, string taskId, int attempt, string method, TaskPayload? payload, int timeoutMs,
        TaskStream? stream, CancellationToken cancellationToken)
    {
        var key = (taskId, attempt);
        var pending = new Pending(remote.Node, stream);
        using var relayCancel = new CancellationTokenSource();
        var relay = pending.Chunks is { } chunks ? RelayAsync(chunks.Reader, stream!, attempt, relayCancel.Token) : null;
        _pending[key] = pending;
        var sends = remote.Target.Sends;
        sends.Sent();
        try
        {
            var sent = await _cluster.SendAsync(remote.Node, new PeerMessage
            {
                Type = PeerMessage.Execute, From = _cluster.Node, TaskId = taskId, Attempt = attempt, AgentId = remote.Agent.Id, Method = method,
                TimeoutMs = timeoutMs, Payload = payload, Stream = stream is null ? null : true,
            }).ConfigureAwait(false);
            if (!sent)
            {
                // Nothing went out (Redis unreachable, or nobody listens on the node's inbox: it is gone), so nothing ran:
                // as a refusal, the task picks again without counting an attempt.
                pending.TryEnd(new RemoteEnd(new AttemptEnd(AttemptOutcomes.Error, null, TaskError.Of(ErrorCodes.RemoteRefused,
                    $"The attempt could not be sent to node '{remote.Node}' (Redis unreachable, or the node is gone); nothing ran.")), Refused: true));
            }

            using var timer = _time.CreateTimer(static s => ((Pending)s!).TryEnd(new RemoteEnd(AttemptEnd.TimedOut, Refused: false)), pending,
                TimeSpan.FromMilliseconds(timeoutMs) + AnswerGrace, Timeout.InfiniteTimeSpan);
            using var cancel = cancellationToken.UnsafeRegister(static s => ((Pending)s!).TryEnd(new RemoteEnd(AttemptEnd.Cancelled, Refused: false)), pending);
            var end = await pending.Ended.ConfigureAwait(false);
            if (relay is not null)
            {
                // The owner's answer comes after its last chunk: those chunks reach the stream first. Any other end stops the relay.
                pending.Chunks!.Writer.TryComplete();
                if (end.End.Outcome is AttemptOutcomes.Cancelled or AttemptOutcomes.Timeout or AttemptOutcomes.Disconnected || !end.FromOwner)
                {
                    await relayCancel.CancelAsync().ConfigureAwait(false);
                }

                await relay.ConfigureAwait(false);
            }

            if (end.Refused)
            {
                remote.Target.Refused(_time.GetTimestamp());
            }

            if (end.End.Outcome is AttemptOutcomes.Cancelled or AttemptOutcomes.Timeout)
            {
                _ = _cluster.SendAsync(remote.Node, new PeerMessage { Type = PeerMessage.Cancel, From = _cluster.Node, TaskId = taskId, Attempt = attempt });
            }

            return end;
        }
        finally
        {
            _pending.TryRemove(new KeyValuePair<(string, int), Pending>(key, pending));
            sends.Ended();
        }
    }

    /// <summary>Offers the relayed chunks to the stream in order, each waiting for room; stops when the stream takes no more.</summary>
    private static async Task RelayAsync(ChannelReader<TaskPayload> chunks, TaskStream stream, int attempt, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var chunk in chunks.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!await stream.OfferAsync(attempt, chunk, cancellationToken).ConfigureAwait(false))
                {
                    return; // the attempt ended, the submitter left or read too slowly: the task's token ends the attempt
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the attempt ended without the owner's answer: its remaining chunks go nowhere
        }
    }

    private void OnMessage(PeerMessage message)
    {
        if (message.Type is not (PeerMessage.Result or PeerMessage.Refused or PeerMessage.Chunk)
            || !_pending.TryGetValue((message.TaskId, message.Attempt), out var pending) || pending.Node != message.From)
        {
            return; // late (the attempt ended here already), or not ours
        }

        if (message.Type == PeerMessage.Chunk)
        {
            pending.Relay(message.Payload!);
            return;
        }

        pending.TryEnd(message.Type == PeerMessage.Refused
            ? new RemoteEnd(new AttemptEnd(AttemptOutcomes.Error, null, message.Error), Refused: true, FromOwner: true)
            : new RemoteEnd(new AttemptEnd(message.Outcome!, message.ResultPayload, message.Error), Refused: false, FromOwner: true));
    }

    private void OnNodesLeft(IReadOnlyCollection<string> nodes)
    {
        foreach (var (_, pending) in _pending)
        {
            if (nodes.Contains(pending.Node))
            {
                pending.TryEnd(new RemoteEnd(new AttemptEnd(AttemptOutcomes.Disconnected, null,
                    TaskError.Of(ErrorCodes.AgentDisconnected, $"Node '{pending.Node}', which held the agent, left the cluster.")), Refused: false, NodeLeft: true));
            }
        }
    }

    private sealed class Pending(string node, TaskStream? stream)
    {
        /// <summary>Chunks relayed ahead of the submitter, at most four of its buffers.</summary>
        private readonly int _relayCapacity = stream is null ? 0 : 4 * stream.MaxBufferedChunks;

        private readonly TaskCompletionSource<RemoteEnd> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Node { get; } = node;

        /// <summary>The relayed chunks not yet offered to the stream; null when the submitter does not stream.</summary>
        /// <remarks>Not a single-reader channel: its reader could not count what waits.</remarks>
        public Channel<TaskPayload>? Chunks { get; } = stream is null ? null : Channel.CreateUnbounded<TaskPayload>();

        /// <summary>A chunk from the owner: queued for the stream, or, past the relay's capacity, the end of the task (slow_consumer).</summary>
        public void Relay(TaskPayload chunk)
        {
            if (Chunks is not { } chunks || _ended.Task.IsCompleted)
            {
                return;
            }

            if (chunks.Reader.Count >= _relayCapacity)
            {
                stream!.Overflowed(_relayCapacity);
                return;
            }

            chunks.Writer.TryWrite(chunk);
        }

        public Task<RemoteEnd> Ended => _ended.Task;

        public bool TryEnd(RemoteEnd end) => _ended.TrySetResult(end);
    }
}

/// <summary>A proposed remote agent, its load as this node estimated it at the pick, and how many remote agents the pick chose among.</summary>
internal readonly record struct RemoteChoice(RemoteAgent Target, int Load, int Candidates)
{
    public string Node => Target.Node;

    public ClusterAgent Agent => Target.Agent;

    /// <summary>
    /// Whether load <paramref name="load"/> of <paramref name="max"/> slots is a strictly lower share than
    /// <paramref name="otherLoad"/> of <paramref name="otherMax"/> (compared without rounding).
    /// </summary>
    public static bool LessLoaded(int load, int max, int otherLoad, int otherMax) => (long)load * otherMax < (long)otherLoad * max;
}

/// <summary>
/// How a remote attempt ended; <see cref="Refused"/> when the owner did not run it (the task picks again);
/// <see cref="FromOwner"/> when the owner answered (its chunks, if any, all arrived before); <see cref="NodeLeft"/> when
/// it was cut off because the owner's node left the cluster (the task fails over).
/// </summary>
internal readonly record struct RemoteEnd(AttemptEnd End, bool Refused, bool FromOwner = false, bool NodeLeft = false);
