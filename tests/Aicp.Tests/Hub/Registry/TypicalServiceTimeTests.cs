using Aicp.Hub.Configuration;
using Aicp.Hub.Health;
using Aicp.Hub.Registry;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Hub.Registry;

/// <summary>The capability's typical agent: each agent fit averaged in, older ones fading with the latency decay.</summary>
public sealed class TypicalServiceTimeTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly TypicalServiceTime _typical;

    public TypicalServiceTimeTests() => _typical = new TypicalServiceTime(new AgentHealthPolicy(new AgentHealthOptions(), _time));

    private long Now => _time.GetTimestamp();

    [Fact]
    public void Update_FirstFit_TakenAsItIs()
    {
        Assert.False(_typical.HasValue);
        Assert.True(double.IsNaN(_typical.BaseMs));
        Assert.True(double.IsNaN(_typical.PerTaskMs));

        _typical.Update(12, 3, Now);

        Assert.True(_typical.HasValue);
        Assert.Equal(12, _typical.BaseMs);
        Assert.Equal(3, _typical.PerTaskMs);
    }

    [Fact]
    public void Update_FitsAtTheSameTime_PlainAverage()
    {
        _typical.Update(10, 2, Now);
        _typical.Update(20, 4, Now);
        _typical.Update(60, 0, Now);

        Assert.Equal(30, _typical.BaseMs, 9);
        Assert.Equal(2, _typical.PerTaskMs, 9);
    }

    [Fact]
    public void Update_OlderFits_FadeWithTheLatencyDecay()
    {
        _typical.Update(10, 2, Now);
        _typical.Update(20, 4, Now); // weight 2: base 15, perTask 3
        _time.Advance(AgentHealthDefaults.LatencyDecay);

        _typical.Update(30, 0, Now);

        var w = 2 * Math.Exp(-1);
        Assert.Equal((15 * w + 30) / (w + 1), _typical.BaseMs, 9);
        Assert.Equal(3 * w / (w + 1), _typical.PerTaskMs, 9);
    }

    [Fact]
    public void Update_FitStampedBeforeTheLast_CountsLikeOneAtTheSameTime()
    {
        var now = Now;
        _typical.Update(10, 2, now);
        _typical.Update(20, 4, now - (long)(5 * _time.TimestampFrequency)); // a writer that read the clock earlier

        Assert.Equal(15, _typical.BaseMs, 9);
        Assert.Equal(3, _typical.PerTaskMs, 9);
    }
}
