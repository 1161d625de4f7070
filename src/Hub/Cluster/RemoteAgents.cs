using System.Collections.Concurrent;
using System.Threading.Channels;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Routing;
using Aicp.Protocol;

namespace Aicp.Hub.Cluster;

/// <summary>
/// The asker's side of dispatch across nodes: picks another node's agent from the cluster view, sends it the attempt,
/// and waits for the owner's answer. The owner alone takes the agent's slot (or refuses), so <c>maxConcurrency</c>
/// holds cluster-wide; this side keeps the task's one result, the attempt's timer and the failover.
/// <list type="bullet">
/// <item>The pick: power of two choices among the remote agents of the capability that are healthy, not draining,
/// not tried by the task and not full, by load share: the pending count their node last published (stale by up to a
/// heartbeat) plus the attempts this node has sent them since, over <c>maxConcurrency</c>. Counting its own sends keeps
/// one node from herding onto an agent between two heartbeats.</item>
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

    private readonly ClusterMembership _cluster;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<(string TaskId, int Attempt), Pending> _pending = new();
    private readonly ConcurrentDictionary<(string Node, string AgentId), int> _sent = new();

    public RemoteAgents(ClusterMembership cluster, TimeProvider time)
    {
        _cluster = cluster;
        _time = time;
        cluster.MessageReceived += OnMessage;
        cluster.NodesLeft += OnNodesLeft;
    }

    /// <summary>Attempts sent to other nodes and not answered yet.</summary>
    public int InFlight => _pending.Count;

    /// <summary>
    /// Another node's agent for a task of <paramref name="method"/>, or null when none can take it: this hub is not a
    /// node of a cluster, or no remote agent of the capability is healthy, untried and (as far as this node knows) free.
    /// </summary>
    public RemoteAgent? Pick(string method, ReadOnlySpan<string> tried, IRandomSource random)
    {
        var view = _cluster.View;
        if (!view.RedisReachable || view.Nodes.Count < 2)
        {
            return null;
        }

        List<RemoteAgent>? candidates = null;
        foreach (var node in view.Nodes)
        {
            if (node.Node == view.Node)
            {
                continue;
            }

            foreach (var agent in node.Agents)
            {
                if (Serves(agent, method, tried) && Load(node.Node, agent) < agent.MaxConcurrency)
                {
                    (candidates ??= []).Add(new RemoteAgent(node.Node, agent));
                }
            }
        }

        if (candidates is null)
        {
            return null;
        }

        var i = random.Next(candidates.Count);
        var first = candidates[i];
        if (candidates.Count == 1)
        {
            return first;
        }

        var j = random.Next(candidates.Count - 1);
        var second = candidates[j >= i ? j + 1 : j]; // uniform over the others
        var best = Share(second) < Share(first) ? second : first;
        return best with { Candidates = candidates.Count };

        double Share(RemoteAgent r) => (double)Load(r.Node, r.Agent) / r.Agent.MaxConcurrency;
    }

    /// <summary>Whether another node has an agent of <paramref name="method"/> that is healthy, serving and untried, free or not.</summary>
    public bool Serves(string method, ReadOnlySpan<string> tried)
    {
        var view = _cluster.View;
        foreach (var node in view.Nodes)
        {
            if (node.Node == view.Node || !view.RedisReachable)
            {
                continue;
            }

            foreach (var agent in node.Agents)
            {
                if (Serves(agent, method, tried))
                {
                    return true;
                }
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
    public async Task<RemoteEnd> RunAsync(RemoteAgent remote, string taskId, int attempt, string method, TaskPayload? payload, int timeoutMs,
        TaskStream? stream, CancellationToken cancellationToken)
    {
        var key = (taskId, attempt);
        var pending = new Pending(remote.Node, stream);
        using var relayCancel = new CancellationTokenSource();
        var relay = pending.Chunks is { } chunks ? RelayAsync(chunks.Reader, stream!, attempt, relayCancel.Token) : null;
        _pending[key] = pending;
        var sentKey = (remote.Node, remote.Agent.Id);
        _sent.AddOrUpdate(sentKey, 1, static (_, n) => n + 1);
        try
        {
            var sent = await _cluster.SendAsync(remote.Node, new PeerMessage
            {
                Type = PeerMessage.Execute, From = _cluster.Node, TaskId = taskId, Attempt = attempt, AgentId = remote.Agent.Id, Method = method,
                TimeoutMs = timeoutMs, Payload = payload, Stream = stream is null ? null : true,
            }).ConfigureAwait(false);
            if (!sent)
            {
                pending.TryEnd(new RemoteEnd(AttemptEnd.Lost, Refused: false));
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

            if (end.End.Outcome is AttemptOutcomes.Cancelled or AttemptOutcomes.Timeout)
            {
                _ = _cluster.SendAsync(remote.Node, new PeerMessage { Type = PeerMessage.Cancel, From = _cluster.Node, TaskId = taskId, Attempt = attempt });
            }

            return end;
        }
        finally
        {
            _pending.TryRemove(new KeyValuePair<(string, int), Pending>(key, pending));
            if (_sent.AddOrUpdate(sentKey, 0, static (_, n) => n - 1) <= 0)
            {
                _sent.TryRemove(new KeyValuePair<(string, string), int>(sentKey, 0));
            }
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

    /// <summary>Whether a task of <paramref name="method"/> may go to <paramref name="agent"/>, free or not: healthy, serving, untried.</summary>
    private static bool Serves(ClusterAgent agent, string method, ReadOnlySpan<string> tried) =>
        agent.Healthy && !agent.Draining && agent.Capabilities.Contains(method) && !tried.Contains(agent.Id);

    private int Load(string node, ClusterAgent agent) => agent.Pending + _sent.GetValueOrDefault((node, agent.Id));

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
                    TaskError.Of(ErrorCodes.AgentDisconnected, $"Node '{pending.Node}', which held the agent, left the cluster.")), Refused: false));
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

/// <summary>Another node's agent, as the cluster view shows it, and how many remote agents the pick chose among.</summary>
internal sealed record RemoteAgent(string Node, ClusterAgent Agent, int Candidates = 1);

/// <summary>How a remote attempt ended; <see cref="Refused"/> when the owner did not run it (the task picks again);
/// <see cref="FromOwner"/> when the owner answered (its chunks, if any, all arrived before).</summary>
internal readonly record struct RemoteEnd(AttemptEnd End, bool Refused, bool FromOwner = false);
