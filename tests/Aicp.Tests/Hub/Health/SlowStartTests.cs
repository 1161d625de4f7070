using Aicp.Hub.Configuration;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Health;

public sealed class SlowStartTests
{
    [Fact]
    public void SlowStart_NewAgent_RampsFromFloorToOneOverWindow()
    {
        var f = new RoutingFixture();
        var agent = f.Agent("a");
        Assert.Equal(0.1, agent.SlowStart(f.Time.GetTimestamp()));
        f.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0.5, agent.SlowStart(f.Time.GetTimestamp()), 9);
        f.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, agent.SlowStart(f.Time.GetTimestamp()));
    }

    [Fact]
    public void SlowStart_CircuitClosesAfterBreak_RampsAgain()
    {
        var f = new RoutingFixture();
        var agent = f.Agent("a");
        f.Time.Advance(TimeSpan.FromSeconds(20));
        f.Open(agent);
        f.Time.Advance(AgentHealthDefaults.BreakDuration);
        Assert.True(agent.TryAcquireSlot());
        agent.ReleaseSlot();
        agent.RecordCompletion(RoutingFixture.Method, 5, ok: true, f.Time.GetUtcNow());

        Assert.Equal(0.1, agent.SlowStart(f.Time.GetTimestamp()));
        f.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, agent.SlowStart(f.Time.GetTimestamp()));
    }

    [Fact]
    public void SlowStart_WindowZero_Off()
    {
        var f = new RoutingFixture(new AgentHealthOptions { SlowStartWindow = TimeSpan.Zero });
        Assert.Equal(1, f.Agent("a").SlowStart(f.Time.GetTimestamp()));
    }

    [Fact]
    public void Pick_PowerOfTwoWithOneNewAgent_NewAgentGetsSmallerShare()
    {
        var f = new RoutingFixture();
        var old = f.Agents(4, maxConcurrency: 1000);
        var fresh = f.Agent("new", 1000);
        f.Pool.Replace([.. old, fresh]);
        var random = new Aicp.Hub.Routing.DefaultRandomSource(3);
        var strategy = new Aicp.Hub.Routing.PowerOfTwoChoicesStrategy();
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < 500; i++)
        {
            var picked = f.Pick(strategy, random)!;
            Assert.True(picked.TryAcquireSlot());
            counts[picked.AgentId] = counts.GetValueOrDefault(picked.AgentId) + 1;
        }

        // Equal agents would get 100 each; at factor 0.1 the new agent wins only against ten times its load.
        Assert.InRange(counts.GetValueOrDefault("new"), 1, 60);
    }
}
