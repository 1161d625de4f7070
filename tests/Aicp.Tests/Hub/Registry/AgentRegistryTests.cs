using Aicp.Hub.Configuration;
using Aicp.Hub.Health;
using Aicp.Hub.Registry;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Hub.Registry;

public sealed class AgentRegistryTests
{
    private static readonly Dictionary<string, string> NoMetadata = [];

    private static AgentRegistry NewRegistry() => new(Options.Create(new AicpHubOptions()), TimeProvider.System);

    [Fact]
    public void Register_NewAgent_AddedToEveryCapabilityPool()
    {
        var registry = NewRegistry();
        var (agent, replaced) = registry.Register("c1", "a1", ["image.label", "text.embed"], 4, NoMetadata);

        Assert.Null(replaced);
        Assert.Same(agent, registry.GetById("a1"));
        Assert.Same(agent, registry.GetByConnection("c1"));
        Assert.Equal([agent], registry.GetPool("image.label")!.Agents);
        Assert.Equal([agent], registry.GetPool("text.embed")!.Agents);
    }

    [Fact]
    public void Register_SameIdFromNewConnection_ReplacesAndFailsOverOldAssignments()
    {
        var registry = NewRegistry();
        var (old, _) = registry.Register("c1", "a1", ["image.label"], 4, NoMetadata);
        var assignment = new RecordingAssignment();
        Assert.True(old.Track(assignment));
        var removedEvents = new List<AgentState>();
        registry.AgentRemoved += removedEvents.Add;

        var (fresh, replaced) = registry.Register("c2", "a1", ["image.label"], 4, NoMetadata);

        Assert.Same(old, replaced);
        Assert.True(old.IsRemoved);
        Assert.Equal(1, assignment.LostCount);
        Assert.Equal([old], removedEvents);
        Assert.Equal([fresh], registry.GetPool("image.label")!.Agents);
        Assert.Null(registry.GetByConnection("c1"));
        Assert.Same(fresh, registry.GetById("a1"));
    }

    [Fact]
    public void Register_SameConnectionNewCapabilities_UpdatesPoolsAndKeepsPending()
    {
        var registry = NewRegistry();
        var (agent, _) = registry.Register("c1", "a1", ["image.label", "text.embed"], 4, NoMetadata);
        Assert.True(agent.TryAcquireSlot());

        var (same, replaced) = registry.Register("c1", "a1", ["image.label", "audio.transcribe"], 8, NoMetadata);

        Assert.Same(agent, same);
        Assert.Null(replaced);
        Assert.Equal(1, same.Pending);
        Assert.Equal(8, same.MaxConcurrency);
        Assert.Null(registry.GetPool("text.embed"));
        Assert.Equal([agent], registry.GetPool("audio.transcribe")!.Agents);
        Assert.Equal([agent], registry.GetPool("image.label")!.Agents);
    }

    [Fact]
    public void RemoveConnection_LiveAgent_RemovedEverywhereAndAssignmentsLost()
    {
        var registry = NewRegistry();
        var (agent, _) = registry.Register("c1", "a1", ["image.label"], 4, NoMetadata);
        registry.Register("c2", "a2", ["image.label"], 4, NoMetadata);
        var assignment = new RecordingAssignment();
        agent.Track(assignment);

        Assert.Same(agent, registry.RemoveConnection("c1"));

        Assert.Equal(1, assignment.LostCount);
        Assert.Null(registry.GetById("a1"));
        Assert.Equal(["a2"], registry.GetPool("image.label")!.Agents.Select(a => a.AgentId));
        Assert.Equal(1, registry.Count);
        Assert.Null(registry.RemoveConnection("c1"));
    }

    [Fact]
    public void RemoveConnection_LastAgentOfCapability_PoolDropped()
    {
        var registry = NewRegistry();
        registry.Register("c1", "a1", ["image.label"], 4, NoMetadata);
        registry.RemoveConnection("c1");
        Assert.Null(registry.GetPool("image.label"));
        Assert.Empty(registry.Pools);
    }

    [Fact]
    public void Track_AfterRemoval_ReportsLostToCaller()
    {
        var registry = NewRegistry();
        var (agent, _) = registry.Register("c1", "a1", ["image.label"], 4, NoMetadata);
        registry.RemoveConnection("c1");
        var assignment = new RecordingAssignment();
        Assert.False(agent.Track(assignment));
        Assert.Equal(0, assignment.LostCount);
    }

    [Fact]
    public void Drain_Agent_NoLongerAcquiresSlots()
    {
        var registry = NewRegistry();
        var (agent, _) = registry.Register("c1", "a1", ["image.label"], 4, NoMetadata);
        registry.Drain("c1");
        Assert.True(agent.IsDraining);
        Assert.False(agent.TryAcquireSlot());
        Assert.Equal(0, agent.Pending);
    }

    [Fact]
    public async Task Register_AnotherAgentJoins_WaitersOfItsCapabilitiesWokenToLookAgain()
    {
        var registry = NewRegistry();
        registry.Register("c1", "a1", ["image.label"], 1, NoMetadata);
        var labels = registry.GetPool("image.label")!.Waiters;
        var waiting = labels.TryEnqueue()!;

        registry.Register("c2", "a2", ["image.label", "text.embed"], 1, NoMetadata);

        Assert.Equal(0, await waiting.Woken.DefaultTimeout()); // woken to re-evaluate, with no hand-off to pass on
        Assert.Equal(0, labels.Count);
        Assert.Equal(2, registry.Count);
        Assert.Equal(["image.label", "text.embed"], registry.Pools.Select(p => p.Method).Order());
    }

    [Fact]
    public async Task Register_SameConnectionAgain_WaitersOfEveryCapabilityBeforeAndAfterWoken()
    {
        var registry = NewRegistry();
        registry.Register("c1", "a1", ["image.label", "text.embed"], 1, NoMetadata);
        registry.Register("c2", "a2", ["text.embed"], 1, NoMetadata);
        var labelWaiter = registry.GetPool("image.label")!.Waiters.TryEnqueue()!;
        var embedWaiter = registry.GetPool("text.embed")!.Waiters.TryEnqueue()!;

        registry.Register("c1", "a1", ["image.label"], 2, NoMetadata); // drops text.embed, which a2 still serves

        Assert.Equal(0, await labelWaiter.Woken.DefaultTimeout());
        Assert.Equal(0, await embedWaiter.Woken.DefaultTimeout());
        Assert.Equal(["a2"], registry.GetPool("text.embed")!.Agents.Select(a => a.AgentId));
    }

    [Fact]
    public async Task Drain_Agent_WaitersOfItsCapabilitiesWokenAndItsPoolsKept()
    {
        var registry = NewRegistry();
        var (agent, _) = registry.Register("c1", "a1", ["image.label", "text.embed"], 1, NoMetadata);
        var waiters = registry.Pools.Select(p => p.Waiters.TryEnqueue()!).ToArray();

        Assert.Same(agent, registry.Drain("c1"));

        var hops = await Task.WhenAll(waiters.Select(w => w.Woken)).DefaultTimeout();
        Assert.Equal([0, 0], hops);
        Assert.Equal([agent], registry.GetPool("image.label")!.Agents); // a draining agent stays until it leaves
        Assert.False(agent.IsServing);
        Assert.Null(registry.Drain("c9"));
    }

    [Fact]
    public async Task RemoveConnection_Agent_WaitersOfItsCapabilitiesWokenAlsoWhenThePoolIsDropped()
    {
        var registry = NewRegistry();
        registry.Register("c1", "a1", ["image.label", "text.embed"], 1, NoMetadata);
        registry.Register("c2", "a2", ["image.label"], 1, NoMetadata);
        var labelWaiter = registry.GetPool("image.label")!.Waiters.TryEnqueue()!;
        var embedPool = registry.GetPool("text.embed")!;
        var embedWaiter = embedPool.Waiters.TryEnqueue()!;

        registry.RemoveConnection("c1");

        Assert.Equal(0, await labelWaiter.Woken.DefaultTimeout());
        Assert.Equal(0, await embedWaiter.Woken.DefaultTimeout()); // it sees its pool empty and finishes
        Assert.Empty(embedPool.Agents);
        Assert.Null(registry.GetPool("text.embed"));
    }

    [Fact]
    public void Register_ConnectionKnownUnderAnotherId_ThatIdentityEnds()
    {
        var registry = NewRegistry();
        var (first, _) = registry.Register("c1", "a1", ["image.label"], 4, NoMetadata);
        var assignment = new RecordingAssignment();
        Assert.True(first.Track(assignment));
        var removed = new List<AgentState>();
        registry.AgentRemoved += removed.Add;

        var (second, replaced) = registry.Register("c1", "b1", ["text.embed"], 4, NoMetadata);

        Assert.Same(first, replaced);
        Assert.NotSame(first, second);
        Assert.True(first.IsRemoved);
        Assert.Equal(1, assignment.LostCount);
        Assert.Equal([first], removed);
        Assert.Null(registry.GetById("a1"));
        Assert.Same(second, registry.GetByConnection("c1"));
        Assert.Null(registry.GetPool("image.label"));
        Assert.Equal([second], registry.GetPool("text.embed")!.Agents);
        Assert.Equal([second], registry.Agents);
    }

    [Fact]
    public void Register_ConnectionKnownUnderAnotherIdTakesAnIdLiveElsewhere_BothIdentitiesEndAndTheSameIdIsReported()
    {
        var registry = NewRegistry();
        var (x, _) = registry.Register("c1", "x", ["image.label"], 4, NoMetadata);
        var (y, _) = registry.Register("c2", "y", ["image.label"], 4, NoMetadata);
        var onX = new RecordingAssignment();
        var onY = new RecordingAssignment();
        Assert.True(x.Track(onX));
        Assert.True(y.Track(onY));
        var removed = new List<AgentState>();
        registry.AgentRemoved += removed.Add;

        var (fresh, replaced) = registry.Register("c1", "y", ["image.label"], 4, NoMetadata);

        Assert.Same(y, replaced); // the id was live on another connection
        Assert.True(x.IsRemoved);
        Assert.True(y.IsRemoved);
        Assert.Equal([1, 1], new[] { onX.LostCount, onY.LostCount }); // no attempt left waiting on a gone identity
        Assert.Equal([y, x], removed);
        Assert.Equal([fresh], registry.GetPool("image.label")!.Agents);
        Assert.Equal([fresh], registry.Agents);
        Assert.Null(registry.GetByConnection("c2"));
        Assert.Null(registry.RemoveConnection("c2"));
    }

    [Fact]
    public void Register_CapabilityNameAsAnotherString_AgentUsesThePoolsOwnNameAndLeansOnItsTypicalAgent()
    {
        var registry = NewRegistry();
        registry.Register("c1", "a1", ["image.label"], 4, NoMetadata);
        var pool = registry.GetPool("image.label")!;

        var (agent, _) = registry.Register("c2", "a2", [new string("image.label".AsSpan()), "text.embed"], 4, NoMetadata);

        Assert.Same(pool.Method, agent.Capabilities[0]);
        Assert.Same(registry.GetPool("text.embed")!.Method, agent.Capabilities[1]);
        Assert.Same(pool.Typical, agent.For("image.label")!.Service.Typical);
        Assert.Same(registry.GetPool("text.embed")!.Typical, agent.For("text.embed")!.Service.Typical);
    }

    [Fact]
    public void CircuitTransitions_OfEveryAgent_RaisedAndLoggedWithTheBreakInSeconds()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        var logs = new CapturingLoggerProvider(LogLevel.Information);
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Information));
        var registry = new AgentRegistry(Options.Create(new AicpHubOptions()), time, factory.CreateLogger<AgentRegistry>());
        var transitions = new List<CircuitTransition>();
        registry.CircuitTransitioned += transitions.Add;
        var (agent, _) = registry.Register("c1", "a1", ["image.label"], 4, NoMetadata);

        for (var i = 0; i < AgentHealthDefaults.ConsecutiveFailures; i++)
        {
            agent.RecordCompletion("image.label", 5, ok: false, time.GetUtcNow());
        }

        time.Advance(AgentHealthDefaults.BreakDuration);
        Assert.True(agent.TryAcquireSlot()); // the probe
        agent.ReleaseSlot();
        agent.RecordCompletion("image.label", 5, ok: true, time.GetUtcNow());

        Assert.Equal(
            [(CircuitState.Closed, CircuitState.Open), (CircuitState.Open, CircuitState.HalfOpen), (CircuitState.HalfOpen, CircuitState.Closed)],
            transitions.Select(t => (t.From, t.To)));
        Assert.All(transitions, t => Assert.Equal("a1", t.AgentId));
        var circuitLogs = logs.Entries.Where(e => e.Category == typeof(AgentRegistry).FullName).ToList();
        Assert.Equal(
            [
                (1006, LogLevel.Warning, "Circuit of agent a1 opened (was closed) for 30 s; re-opened 0 time(s) since it last closed"),
                (1007, LogLevel.Information, "Circuit of agent a1 half-open: one probe task goes through"),
                (1008, LogLevel.Information, "Circuit of agent a1 closed: the probe succeeded"),
            ],
            circuitLogs.Select(e => (e.EventId.Id, e.Level, e.Message)));
    }

    private sealed class RecordingAssignment : IAgentAssignment
    {
        public int LostCount;

        public void OnAgentLost() => Interlocked.Increment(ref LostCount);
    }
}
