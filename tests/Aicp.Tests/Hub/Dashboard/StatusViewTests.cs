using Aicp.Hub.Dashboard;

namespace Aicp.Tests.Hub.Dashboard;

public sealed class StatusViewTests
{
    [Fact]
    public void Normalized_OutOfRange_Clamped()
    {
        var view = new StatusView
        {
            AgentPage = -3, AgentPageSize = 0, CapabilityPage = -1, CapabilityPageSize = 1_000, RouteLimit = 5_000,
            AgentFilter = "  gpu  ", CapabilityFilter = "   ", RouteMethod = new string('x', 500),
            ClusterAgentPage = -2, ClusterAgentPageSize = 1_000, ClusterAgentFilter = " node-1 ",
        }.Normalized();

        Assert.Equal(0, view.AgentPage);
        Assert.Equal(1, view.AgentPageSize);
        Assert.Equal(0, view.CapabilityPage);
        Assert.Equal(StatusView.MaxCapabilityPageSize, view.CapabilityPageSize);
        Assert.Equal(StatusView.MaxRouteLimit, view.RouteLimit);
        Assert.Equal("gpu", view.AgentFilter);
        Assert.Null(view.CapabilityFilter);
        Assert.Equal(StatusView.MaxFilterLength, view.RouteMethod!.Length);
        Assert.Equal((0, StatusView.MaxClusterAgentPageSize, "node-1"), (view.ClusterAgentPage, view.ClusterAgentPageSize, view.ClusterAgentFilter));
    }

    [Fact]
    public void Normalized_Defaults_Unchanged() => Assert.Equal(new StatusView(), new StatusView().Normalized());
}
