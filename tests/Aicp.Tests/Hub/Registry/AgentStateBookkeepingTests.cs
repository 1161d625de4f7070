using Aicp.Hub.Configuration;
using Aicp.Hub.Health;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Registry;

/// <summary>
/// What an agent's state reports to routing and to the dispatcher: its reported queue and how long it counts, who may
/// take a slot, its per-capability statistics across a re-registration, the assignments it tracks, and what each attempt's
/// end feeds. On the fixtures' manual clock, which starts at a realistic date.
/// </summary>
public sealed class AgentStateBookkeepingTests
{
    private const string Method = RoutingFixture.Method;

    private static long Ticks(RoutingFixture f, TimeSpan span) => (long)(span.TotalSeconds * f.Time.TimestampFrequency);

    private sealed class RecordingAssignment : IAgentAssignment
    {
        public int LostCount;

        public void OnAgentLost() => Interlocked.Increment(ref LostCount);
    }

    [Fact]
    public void RecordLoad_FreshReport_CountsForFifteenSecondsToTheTickThenZero()
    {
        var f = new RoutingFixture();
        var agent = f.Agents(1)[0];
        RoutingFixture.Load(agent, 2);
        var at = f.Time.GetUtcNow();
        var received = f.Time.GetTimestamp();

        agent.RecordLoad(new AgentLoadReport { QueueDepth = 4, FreeSlots = 1 }, at);

        Assert.Equal(4, agent.ReportedQueueDepth(received));
        Assert.Equal(6, agent.Load(received)); // the two tasks the hub sent plus the four the agent queued
        Assert.Equal(at, agent.ReportedLoad!.ReceivedAt);
        Assert.Equal(received, agent.ReportedLoad.ReceivedTimestamp);
        Assert.Equal(1, agent.ReportedLoad.Report.FreeSlots);

        var lastFresh = received + Ticks(f, AgentState.ReportedLoadFreshness);
        Assert.Equal(4, agent.ReportedQueueDepth(lastFresh));
        Assert.Equal(0, agent.ReportedQueueDepth(lastFresh + 1));
        Assert.Equal(2, agent.Load(lastFresh + 1));
    }

    [Fact]
    public void RecordLoad_NegativeOrMissingQueueDepth_CountsAsZero()
    {
        var f = new RoutingFixture();
        var agent = f.Agents(1)[0];
        Assert.Null(agent.ReportedLoad);
        Assert.Equal(0, agent.ReportedQueueDepth(f.Time.GetTimestamp())); // never reported

        agent.RecordLoad(new AgentLoadReport { QueueDepth = 7 }, f.Time.GetUtcNow());
        agent.RecordLoad(new AgentLoadReport { QueueDepth = -3 }, f.Time.GetUtcNow());
        Assert.Equal(0, agent.ReportedQueueDepth(f.Time.GetTimestamp()));

        agent.RecordLoad(new AgentLoadReport { QueueDepth = 7 }, f.Time.GetUtcNow());
        agent.RecordLoad(new AgentLoadReport { FreeSlots = 2 }, f.Time.GetUtcNow());
        Assert.Equal(0, agent.ReportedQueueDepth(f.Time.GetTimestamp()));
        Assert.Equal(0, agent.Load(f.Time.GetTimestamp()));
    }

    [Fact]
    public void TryAcquireSlot_RemovedAgent_RefusedAndNothingHeld()
    {
        var f = new RoutingFixture();
        var agent = f.Agents(1)[0];
        Assert.True(agent.IsServing);
        Assert.True(agent.HasFreeSlot);

        agent.MarkRemoved();

        Assert.True(agent.IsRemoved);
        Assert.False(agent.IsServing);
        Assert.False(agent.HasFreeSlot);
        Assert.True(agent.HasFreeCapacity); // its slots are free, but nobody may take them
        Assert.False(agent.TryAcquireSlot());
        Assert.False(agent.TryAcquireSlot(panic: true));
        Assert.Equal(0, agent.Pending);
    }

    [Fact]
    public void TryAcquireSlot_DrainingAgent_RefusedUntilItRegistersAgain()
    {
        var f = new RoutingFixture();
        var agent = f.Agents(1, maxConcurrency: 2)[0];
        agent.StartDraining();
        Assert.False(agent.IsServing);
        Assert.False(agent.HasFreeSlot);
        Assert.False(agent.TryAcquireSlot(panic: true));
        Assert.Equal(0, agent.Pending);

        agent.Update([Method], 2, new Dictionary<string, string>());

        Assert.False(agent.IsDraining);
        Assert.True(agent.IsServing);
        Assert.True(agent.TryAcquireSlot());
        Assert.True(agent.TryAcquireSlot());
        Assert.False(agent.HasFreeSlot);
        Assert.False(agent.HasFreeCapacity);
        Assert.Equal(2, agent.Pending);
    }

    [Fact]
    public void TryAcquireSlot_HalfOpenProbeTaken_SecondTaskRefusedWithoutHoldingASlot()
    {
        var f = new RoutingFixture();
        var agent = f.Agents(1, maxConcurrency: 5)[0];
        Assert.True(agent.IsCircuitClosed); // a new agent starts closed
        f.Open(agent);
        Assert.False(agent.IsCircuitClosed);
        f.Time.Advance(AgentHealthDefaults.BreakDuration);

        Assert.True(agent.TryAcquireSlot()); // the probe
        Assert.False(agent.TryAcquireSlot());
        Assert.Equal(1, agent.Pending);

        agent.ReleaseSlot();
        agent.RecordCompletion(Method, 5, ok: true, f.Time.GetUtcNow());
        Assert.True(agent.IsCircuitClosed); // the probe's success closed it: every slot is open again
        for (var i = 0; i < 5; i++)
        {
            Assert.True(agent.TryAcquireSlot());
        }

        Assert.Equal(5, agent.Pending);
    }

    [Fact]
    public void For_SeveralCapabilities_EachNameFindsItsOwnStatisticsWhateverTheStringInstance()
    {
        var f = new RoutingFixture();
        var agent = new AgentState("a1", "c1", ["image.label", "text.embed", "audio.transcribe"], 4,
            new Dictionary<string, string>(), f.Time.GetUtcNow(), f.Policy);
        var embed = new string("text.embed".AsSpan()); // equal, not the same instance

        agent.RecordCompletion(embed, 70, ok: true, f.Time.GetUtcNow());
        agent.RecordCompletion("audio.transcribe", 300, ok: true, f.Time.GetUtcNow());

        Assert.Equal("text.embed", agent.For(embed)!.Method);
        Assert.Equal("audio.transcribe", agent.For("audio.transcribe")!.Method);
        Assert.Equal("image.label", agent.For(new string("image.label".AsSpan()))!.Method);
        Assert.Null(agent.For("text.summarize"));
        Assert.Null(agent.For("TEXT.EMBED")); // names are case-sensitive
        var now = f.Time.GetTimestamp();
        Assert.Equal(70, agent.LatencyMs("text.embed", now));
        Assert.Equal(300, agent.LatencyMs("audio.transcribe", now));
        Assert.Equal(AgentHealthDefaults.DefaultLatencyMs, agent.LatencyMs("image.label", now)); // no sample yet
        Assert.Equal(AgentHealthDefaults.DefaultLatencyMs, agent.LatencyMs("text.summarize", now)); // not served
        Assert.Null(agent.LatencyFor("text.summarize"));
        Assert.Equal(
            [("image.label", double.NaN), ("text.embed", 70.0), ("audio.transcribe", 300.0)],
            agent.Latencies.Select(l => (l.Key, l.Value.Milliseconds)));
    }

    [Fact]
    public void Update_NewCapabilities_KeptOnesKeepTheirStatisticsNewOnesStartAfresh()
    {
        var f = new RoutingFixture();
        var agent = new AgentState("a1", "c1", ["image.label", "text.embed"], 4,
            new Dictionary<string, string> { ["zone"] = "a" }, f.Time.GetUtcNow(), f.Policy);
        agent.RecordCompletion("image.label", 80, ok: true, f.Time.GetUtcNow());
        agent.RecordCompletion("text.embed", 40, ok: true, f.Time.GetUtcNow());
        var kept = agent.For("image.label");

        agent.Update(["audio.transcribe", "image.label"], 6, new Dictionary<string, string> { ["zone"] = "b" });

        Assert.Equal(["audio.transcribe", "image.label"], agent.Capabilities);
        Assert.Same(kept, agent.For("image.label"));
        Assert.Equal(80, agent.LatencyFor("image.label")!.Milliseconds);
        Assert.False(agent.LatencyFor("audio.transcribe")!.HasValue);
        Assert.Null(agent.For("text.embed"));
        Assert.Equal(6, agent.MaxConcurrency);
        Assert.Equal("b", agent.Metadata["zone"]);
        Assert.Equal(2, agent.Completed); // counts stay
    }

    [Fact]
    public void Track_UntrackAndMarkRemoved_EachAssignmentToldOnceAndNoneLeft()
    {
        var f = new RoutingFixture();
        var agent = f.Agents(1)[0];
        var finished = new RecordingAssignment();
        var running = new[] { new RecordingAssignment(), new RecordingAssignment() };
        Assert.True(agent.Track(finished));
        Assert.True(agent.Track(running[0]));
        Assert.True(agent.Track(running[1]));
        Assert.True(agent.Track(running[1])); // the same attempt twice is tracked once
        Assert.Equal(3, agent.TrackedAssignments);

        agent.Untrack(finished);
        Assert.Equal(2, agent.TrackedAssignments);

        agent.MarkRemoved();
        agent.MarkRemoved();

        Assert.Equal(0, finished.LostCount);
        Assert.Equal([1, 1], running.Select(r => r.LostCount));
        Assert.Equal(0, agent.TrackedAssignments);

        var late = new RecordingAssignment();
        Assert.False(agent.Track(late)); // the caller treats it as lost; nothing is left tracked on a gone agent
        Assert.Equal(0, agent.TrackedAssignments);
        Assert.Equal(0, late.LostCount);
    }

    [Fact]
    public void RecordCompletion_DuringSlowStart_TheSampleCountsAsTheRampsShare()
    {
        var f = new RoutingFixture();
        var fresh = f.Agent("fresh");
        var warm = f.Agents(1)[0];
        var now = f.Time.GetTimestamp();
        var freshNow = f.Agent("fresher");

        freshNow.RecordCompletion(Method, 50, ok: true, f.Time.GetUtcNow());
        warm.RecordCompletion(Method, 50, ok: true, f.Time.GetUtcNow());

        Assert.Equal(AgentHealthDefaults.SlowStartFloor, freshNow.SlowStart(now));
        Assert.Equal(AgentHealthDefaults.SlowStartFloor, freshNow.For(Method)!.Service.Evidence(now), 9);
        Assert.Equal(1, warm.For(Method)!.Service.Evidence(now), 9);
        Assert.Equal(1, fresh.SlowStart(now)); // created a whole window ago
    }

    [Fact]
    public void RecordCompletionAndTimeout_LoadAtDispatch_ReachTheServiceTimeModel()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(2);

        agents[0].RecordCompletion(Method, 40, ok: true, f.Time.GetUtcNow(), load: 3);
        agents[1].RecordTimeout(Method, 40, load: 3);

        foreach (var agent in agents)
        {
            // one sample at load 3, leaning on one task at a time: perTask = 0.25 x 40 / (0.25 x 4) = 10, base = 40 - 3 x 10
            var service = agent.For(Method)!.Service;
            Assert.Equal(10, service.PerTaskMs, 9);
            Assert.Equal(10, service.BaseMs, 9);
        }

        Assert.Equal(1, agents[1].TimedOut);
        Assert.Equal(40, agents[1].LatencyFor(Method)!.Milliseconds);
    }

    [Fact]
    public void BusyWithoutProgress_HeldWorkSinceTheLastEnd_ZeroWhenIdle()
    {
        var f = new RoutingFixture();
        var agent = f.Agents(1)[0];
        Assert.Equal(0, agent.BusyWithoutProgress(f.Time.GetTimestamp() + Ticks(f, TimeSpan.FromSeconds(9))));

        Assert.True(agent.TryAcquireSlot());
        f.Time.Advance(TimeSpan.FromSeconds(3));
        Assert.True(agent.TryAcquireSlot()); // a second task does not restart the count
        f.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(Ticks(f, TimeSpan.FromSeconds(5)), agent.BusyWithoutProgress(f.Time.GetTimestamp()));

        agent.ReleaseSlot(); // progress: counted from here
        f.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(Ticks(f, TimeSpan.FromSeconds(4)), agent.BusyWithoutProgress(f.Time.GetTimestamp()));
        Assert.Equal(0, agent.BusyWithoutProgress(f.Time.GetTimestamp() - Ticks(f, TimeSpan.FromSeconds(5)))); // a read from before the last end

        agent.ReleaseSlot();
        Assert.Equal(0, agent.BusyWithoutProgress(f.Time.GetTimestamp() + Ticks(f, TimeSpan.FromSeconds(9))));
    }
}
