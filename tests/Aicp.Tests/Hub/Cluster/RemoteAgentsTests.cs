using Aicp.Hub.Cluster;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static Aicp.Tests.Infrastructure.FakeClusterPeers;

namespace Aicp.Tests.Hub.Cluster;

/// <summary>
/// The remote proposal on a scripted cluster view: power of two choices among the other nodes' eligible agents of the
/// capability (two drawn uniformly, the lower load share kept, the first drawn on a tie), this node's own attempts
/// counted in the load, and the candidates taken from an index that follows each new view.
/// </summary>
public sealed class RemoteAgentsTests
{
    private const string Method = DispatcherFixture.Method;

    private readonly FakeClusterPeers _cluster = new();
    private readonly FakeTimeProvider _time = new();
    private readonly RemoteAgents _remote;

    public RemoteAgentsTests() => _remote = new RemoteAgents(_cluster, _time);

    private RemoteChoice? Pick(params int[] draws) => _remote.Pick(Method, [], new ScriptedRandom(draws));

    private string? PickId(params int[] draws) => Pick(draws)?.Agent.Id;

    [Fact]
    public void Pick_EveryOrderedPairOfDraws_EachPairOnceAndTheFirstDrawnOnTies()
    {
        _cluster.Show(("node-2", [Line("a"), Line("b")]), ("node-3", [Line("c"), Line("d")]));
        string[] ids = ["a", "b", "c", "d"];

        var pairs = new List<(string First, string Second)>();
        for (var i = 0; i < 4; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                var choice = Pick(i, j)!.Value;
                Assert.Equal((ids[i], 4), (choice.Agent.Id, choice.Candidates)); // equal shares: the first drawn
                pairs.Add((ids[i], ids[j >= i ? j + 1 : j]));
            }
        }

        // What the second draw maps to: every ordered pair of distinct agents exactly once, so each pair is equally likely.
        _cluster.Show(("node-2", [Line("a", pending: 1), Line("b", pending: 1)]), ("node-3", [Line("c", pending: 1), Line("d", pending: 1)]));
        var seconds = new List<(string, string)>();
        for (var i = 0; i < 4; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                _cluster.Show(("node-2", ids.Take(2).Select(id => Line(id, pending: id == ids[i] ? 1 : 0)).ToArray()),
                    ("node-3", ids.Skip(2).Select(id => Line(id, pending: id == ids[i] ? 1 : 0)).ToArray()));
                seconds.Add((ids[i], PickId(i, j)!)); // the first drawn is the busier: the second drawn wins
            }
        }

        Assert.Equal(pairs, seconds);
        Assert.Equal(12, seconds.Distinct().Count());
        Assert.DoesNotContain(seconds, p => p.Item1 == p.Item2);
    }

    [Theory]
    [InlineData(1, 2, 0, 2, "b")] // 1/2 against 0/2: the less loaded
    [InlineData(0, 2, 1, 2, "a")]
    [InlineData(1, 2, 2, 4, "a")] // 1/2 against 2/4: a tie, the first drawn
    [InlineData(2, 4, 1, 2, "a")]
    [InlineData(2, 4, 1, 3, "b")] // 1/2 against 1/3: by share, not by count
    [InlineData(1, 3, 1, 2, "a")]
    public void Pick_TwoDrawn_TheLowerLoadShareStrictly(int aPending, int aMax, int bPending, int bMax, string expected)
    {
        _cluster.Show(("node-2", [Line("a", aPending, aMax), Line("b", bPending, bMax)]));

        Assert.Equal(expected, PickId(0, 0)); // a drawn first, then b
    }

    [Fact]
    public async Task Pick_OwnAttemptsInFlight_CountedInTheLoadUntilTheyEnd()
    {
        _cluster.Show(("node-2", [Line("a", maxConcurrency: 2), Line("b", pending: 1, maxConcurrency: 2)]));
        var first = Pick(0, 0)!.Value;
        Assert.Equal(("a", 0), (first.Agent.Id, first.Load));
        using var cancel = new CancellationTokenSource();
        var running = _remote.RunAsync(first, "t1", 1, Method, null, 60_000, null, cancel.Token);

        // a carries this node's attempt (1/2) as b carries its published one (1/2): a tie, the first drawn.
        Assert.Equal(("a", 1), (Pick(0, 0)!.Value.Agent.Id, Pick(0, 0)!.Value.Load));
        Assert.Equal("b", PickId(1, 0));
        var second = _remote.RunAsync(Pick(0, 0)!.Value, "t2", 1, Method, null, 60_000, null, cancel.Token);
        Assert.Equal("b", PickId(0, 0)); // a is full as far as this node knows: b is the only candidate
        Assert.Equal(1, Pick(0)!.Value.Candidates);

        // The next view publishes a's two attempts: counted once, not twice.
        _cluster.Show(("node-2", [Line("a", pending: 2, maxConcurrency: 2), Line("b", pending: 1, maxConcurrency: 2)]));
        Assert.Equal("b", PickId(0, 0));
        await cancel.CancelAsync();
        await Task.WhenAll(running, second).DefaultTimeout();

        // Both ended since that view: a is free again (2 published, 2 of them ended), and 0/2 beats b's 1/2.
        Assert.Equal(("a", 0), (PickId(1, 0), Pick(1, 0)!.Value.Load));
        Assert.Equal(2, _cluster.Sent.Count(s => s.Message.Type == PeerMessage.Execute));
    }

    [Fact]
    public async Task Pick_AgentsNodeRefusedAnAttempt_FullForTheHold()
    {
        _cluster.Show(("node-2", [Line("a"), Line("b", pending: 1)]));
        var choice = Pick(0, 0)!.Value;
        Assert.Equal("a", choice.Agent.Id);
        var running = _remote.RunAsync(choice, "t1", 1, Method, null, 60_000, null, CancellationToken.None);
        _cluster.Receive(new PeerMessage
        {
            Type = PeerMessage.Refused, From = "node-2", TaskId = "t1", Attempt = 1, Error = TaskError.Of(ErrorCodes.RemoteRefused, "full"),
        });

        Assert.True((await running.DefaultTimeout()).Refused);
        Assert.Equal(("b", 1), (PickId(0, 0), Pick(0, 0)!.Value.Candidates)); // a looks free (0 published, no attempt in flight) but refused
        _time.Advance(RemoteAgents.RefusalHold - TimeSpan.FromTicks(1));
        Assert.Equal("b", PickId(0, 0));
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal("a", PickId(0, 0));
    }

    [Fact]
    public async Task RunAsync_NothingSent_ARefusalAndTheAgentHeld_AndNoProposalWhileRedisIsDown()
    {
        _cluster.Show(("node-2", [Line("a"), Line("b", pending: 1)]));
        var choice = Pick(0, 0)!.Value;
        _cluster.Connected = false; // the connection drops after the pick

        var end = await _remote.RunAsync(choice, "t1", 1, Method, null, 60_000, null, CancellationToken.None).DefaultTimeout();

        Assert.True(end.Refused); // nothing ran: the task picks again without counting an attempt
        Assert.Equal(ErrorCodes.RemoteRefused, end.End.Error?.Code);
        Assert.Null(Pick(0, 0)); // no proposal while Redis is down
        _cluster.Connected = true;
        Assert.Equal(("b", 1), (PickId(0, 0), Pick(0, 0)!.Value.Candidates)); // a is held for the refusal
    }

    [Fact]
    public void Pick_TriedDrainingUnhealthyFullOrOwnNode_NeverChosen()
    {
        var ownNodesAgent = new NodeSnapshot { Node = Self, At = 0, Agents = [Line("mine")] };
        _cluster.Show(("node-2", [Line("tried"), Line("draining", draining: true), Line("sick", healthy: false), Line("full", pending: 2),
            Line("other", capability: "text.chat"), Line("good", pending: 1)]));
        var view = _cluster.View;
        var withOwn = view with { Nodes = [ownNodesAgent, .. view.Nodes.Skip(1)] };
        var cluster = new ScriptedView(withOwn);
        var remote = new RemoteAgents(cluster, _time);

        for (var draw = 0; draw < 3; draw++)
        {
            var choice = remote.Pick(Method, ["tried"], new ScriptedRandom(draw == 0 ? [] : [0]))!.Value;
            Assert.Equal(("good", "node-2", 1), (choice.Agent.Id, choice.Node, choice.Candidates));
        }

        Assert.Null(remote.Pick(Method, ["tried", "good"], new ScriptedRandom()));
        Assert.True(remote.Serves(Method, ["good"])); // "tried" still serves, though not for this task's first try
        Assert.False(remote.Serves(Method, ["tried", "good", "full"]));
        Assert.Equal("other", remote.Pick("text.chat", [], new ScriptedRandom())!.Value.Agent.Id); // by capability
    }

    [Fact]
    public void Index_AgentsAndNodesJoinAndLeave_FollowsEachView()
    {
        Assert.Null(Pick()); // no view yet: this node alone
        _cluster.Show(("node-2", [Line("a")]));
        Assert.Equal("a", PickId(0));
        var index = _remote.Index;
        Assert.Same(index, _remote.Index); // built once per view

        _cluster.Show(("node-2", [Line("a")]), ("node-3", [Line("b")])); // an agent (and its node) joins
        Assert.NotSame(index, _remote.Index);
        Assert.Equal(["a", "b"], _remote.Index.For(Method).ToArray().Select(r => r.Agent.Id));
        Assert.Equal("b", PickId(1, 0));

        _cluster.Show(("node-2", Array.Empty<ClusterAgent>()), ("node-3", [Line("b")])); // an agent leaves
        Assert.Equal("b", PickId(0));
        Assert.Equal(1, Pick(0)!.Value.Candidates);

        _cluster.Show(("node-2", Array.Empty<ClusterAgent>())); // a node leaves
        Assert.Null(Pick());
        Assert.False(_remote.Serves(Method, []));

        _cluster.Show(("node-2", [Line("a")]));
        Assert.Equal("a", PickId(0));
        _cluster.LoseRedis(); // Redis unreachable: no other node is known
        Assert.Null(Pick());
    }

    [Fact]
    public void Pick_NotANodeOfACluster_NothingAndNoIndex()
    {
        var alone = new RemoteAgents(new FakeClusterPeers(enabled: false), _time);

        Assert.False(alone.Enabled);
        Assert.Null(alone.Pick(Method, [], new ScriptedRandom()));
        Assert.False(alone.Serves(Method, []));
    }

    /// <summary>A cluster whose view is fixed (it may hold this node's own agents).</summary>
    private sealed class ScriptedView(ClusterView view) : IClusterPeers
    {
        public bool Enabled => true;

        public bool Connected => true;

        public string Node => Self;

        public ClusterView View => view;

        public event Action<PeerMessage>? MessageReceived { add { } remove { } }

        public event Action<IReadOnlyCollection<string>>? NodesLeft { add { } remove { } }

        public Task<bool> SendAsync(string node, PeerMessage message) => Task.FromResult(true);
    }
}
