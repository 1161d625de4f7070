using Aicp.Hub.Registry;
using Aicp.Hub.Routing;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Routing;

public sealed class ReportedLoadRoutingTests
{
    [Fact]
    public void Pick_AdaptiveWithOneAgentReportingABacklog_PrefersTheOthers()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(4);
        agents[0].RecordLoad(new AgentLoadReport { QueueDepth = 50 }, f.Time.GetUtcNow());
        var random = new DefaultRandomSource(3);
        var strategy = new AdaptiveStrategy();

        var picks = Enumerable.Range(0, 2000).Select(_ => f.Pick(strategy, random)!.AgentId).ToList();

        Assert.True(picks.Count(id => id == "a0") < 20, $"the backlogged agent got {picks.Count(id => id == "a0")} of 2000");
    }

    [Fact]
    public void ReportedQueueDepth_StaleReport_CountsAsZero()
    {
        var f = new RoutingFixture();
        var agent = f.Agents(1)[0];
        agent.RecordLoad(new AgentLoadReport { QueueDepth = 9 }, f.Time.GetUtcNow());
        Assert.Equal(9, agent.ReportedQueueDepth(f.Time.GetTimestamp()));

        f.Time.Advance(AgentState.ReportedLoadFreshness + TimeSpan.FromSeconds(1));
        Assert.Equal(0, agent.ReportedQueueDepth(f.Time.GetTimestamp()));
    }
}
