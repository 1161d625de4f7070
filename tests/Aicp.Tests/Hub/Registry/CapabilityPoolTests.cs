using Aicp.Hub.Configuration;
using Aicp.Hub.Health;
using Aicp.Hub.Registry;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Hub.Registry;

/// <summary>One capability's pool: its wait queue's bound, its typical agent on the registry's clock and decay, an agent's statistics joined to it.</summary>
public sealed class CapabilityPoolTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    public void New_QueueBoundAndTypicalAgentOnThePolicysDecay()
    {
        var policy = new AgentHealthPolicy(new AgentHealthOptions { LatencyDecay = TimeSpan.FromSeconds(2) }, _time);
        var pool = new CapabilityPool("image.label", 7, policy);

        Assert.Equal("image.label", pool.Method);
        Assert.Equal(7, pool.Waiters.Capacity);
        Assert.Empty(pool.Agents);

        pool.Typical.Update(10, 0, _time.GetTimestamp());
        _time.Advance(TimeSpan.FromSeconds(2)); // one decay time of this policy
        pool.Typical.Update(20, 0, _time.GetTimestamp());

        var w = Math.Exp(-1);
        Assert.Equal((10 * w + 20) / (w + 1), pool.Typical.BaseMs, 9);
    }

    [Fact]
    public void JoinPool_AgentCapability_ItsSamplesFeedThePoolsTypicalAgent()
    {
        var policy = new AgentHealthPolicy(new AgentHealthOptions(), _time);
        var pool = new CapabilityPool("image.label", 7, policy);
        var capability = new AgentCapability("image.label", policy);
        Assert.Null(capability.Service.Typical);

        capability.JoinPool(pool);
        capability.Record(40, 0, _time.GetTimestamp());

        Assert.Same(pool.Typical, capability.Service.Typical);
        Assert.Equal(40, pool.Typical.BaseMs, 9);
        Assert.Equal(40, capability.Latency.Milliseconds);
        Assert.Equal(40, capability.Service.BaseMs, 9);
    }

    [Fact]
    public void Record_SampleWeight_ReachesTheServiceTimeModelOnly()
    {
        var policy = new AgentHealthPolicy(new AgentHealthOptions(), _time);
        var capability = new AgentCapability("image.label", policy);

        capability.Record(40, 2, _time.GetTimestamp(), weight: 0.5);

        Assert.Equal(0.5, capability.Service.Evidence(_time.GetTimestamp()), 12);
        Assert.Equal(40, capability.Latency.Milliseconds);
    }
}
