using Aicp.Hub.Configuration;
using Aicp.Hub.Registry;
using Microsoft.Extensions.Options;

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

    private sealed class RecordingAssignment : IAgentAssignment
    {
        public int LostCount;

        public void OnAgentLost() => Interlocked.Increment(ref LostCount);
    }
}
