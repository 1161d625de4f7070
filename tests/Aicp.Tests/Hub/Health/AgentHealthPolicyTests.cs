using Aicp.Hub.Configuration;
using Aicp.Hub.Health;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Hub.Health;

public sealed class AgentHealthPolicyTests
{
    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Time.TimestampFrequency);

    [Fact]
    public void New_DefaultOptions_DurationsInTheClocksTicks()
    {
        var policy = new AgentHealthPolicy(new AgentHealthOptions(), Time);

        Assert.Same(Time, policy.Time);
        Assert.Equal(Ticks(TimeSpan.FromSeconds(10)), policy.DecayTicks);
        Assert.Equal(1000.0 / Time.TimestampFrequency, policy.MsPerTick, 15);
        Assert.Equal(30, policy.DefaultLatencyMs);
        Assert.Equal(Ticks(TimeSpan.FromSeconds(10)), policy.SlowStartTicks);
        Assert.Equal(0.1, policy.SlowStartFloor);
        Assert.Equal(5, policy.ConsecutiveFailures);
        Assert.Equal(0.5, policy.FailureRatio);
        Assert.Equal(10, policy.MinimumThroughput);
        Assert.Equal(Ticks(TimeSpan.FromSeconds(30)), policy.SamplingTicks);
        Assert.Equal(Ticks(TimeSpan.FromSeconds(30)), policy.BreakTicks);
        Assert.Equal(Ticks(TimeSpan.FromMinutes(5)), policy.MaxBreakTicks);
    }

    [Fact]
    public void New_DurationsBelowOneTick_AtLeastOneTickForDecayAndSampling()
    {
        var tiny = TimeSpan.FromTicks(1) / 4;
        var policy = new AgentHealthPolicy(
            new AgentHealthOptions { LatencyDecay = tiny, SamplingDuration = tiny, BreakDuration = TimeSpan.Zero, MaxBreakDuration = TimeSpan.Zero },
            new FakeTimeProvider());

        Assert.Equal(1, policy.DecayTicks);
        Assert.Equal(1, policy.SamplingTicks);
        Assert.Equal(0, policy.BreakTicks);
        Assert.Equal(0, policy.MaxBreakTicks);
    }

    [Fact]
    public void New_MaxBreakShorterThanBreak_NeverBelowTheBreak()
    {
        var policy = new AgentHealthPolicy(
            new AgentHealthOptions { BreakDuration = TimeSpan.FromSeconds(60), MaxBreakDuration = TimeSpan.FromSeconds(30) }, Time);
        Assert.Equal(Ticks(TimeSpan.FromSeconds(60)), policy.MaxBreakTicks);
    }

    [Theory]
    [InlineData(0, 0.1)]
    [InlineData(500, 0.1)] // 0.05 of the window: the floor
    [InlineData(2000, 0.2)]
    [InlineData(7500, 0.75)]
    [InlineData(9999, 0.9999)]
    [InlineData(10000, 1)]
    [InlineData(60000, 1)]
    public void SlowStart_RampsFromTheFloorToOneOverTheWindow(int elapsedMs, double factor)
    {
        var policy = new AgentHealthPolicy(new AgentHealthOptions(), Time);
        var activeSince = Time.GetTimestamp();
        Assert.Equal(factor, policy.SlowStart(activeSince, activeSince + Ticks(TimeSpan.FromMilliseconds(elapsedMs))), 12);
    }

    [Fact]
    public void SlowStart_WindowZero_OneEvenForATimeReadBeforeTheAgentBecameActive()
    {
        var policy = new AgentHealthPolicy(new AgentHealthOptions { SlowStartWindow = TimeSpan.Zero }, Time);
        var activeSince = Time.GetTimestamp();
        Assert.Equal(1, policy.SlowStart(activeSince, activeSince));
        Assert.Equal(1, policy.SlowStart(activeSince, activeSince - 1)); // a pick that read the clock just before a concurrent close
    }
}
