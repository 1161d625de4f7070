using Aicp.Hub.Configuration;
using Aicp.Hub.Health;
using Aicp.Hub.Registry;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Hub.Registry;

public sealed class LatencyEstimateTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly LatencyEstimate _estimate;

    public LatencyEstimateTests() => _estimate = new LatencyEstimate(new AgentHealthPolicy(new AgentHealthOptions(), _time));

    private long Now => _time.GetTimestamp();

    [Fact]
    public void Estimate_NoHistory_DefaultLatency()
    {
        Assert.False(_estimate.HasValue);
        Assert.Equal(AgentHealthDefaults.DefaultLatencyMs, _estimate.Estimate(Now));
    }

    [Fact]
    public void Record_HigherSample_ReplacesAtOnce()
    {
        _estimate.Record(20, Now);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        _estimate.Record(500, Now);
        Assert.Equal(500, _estimate.Estimate(Now));
    }

    [Fact]
    public void Record_LowerSample_AveragedWithTimeWeight()
    {
        _estimate.Record(100, Now);
        _time.Advance(TimeSpan.FromSeconds(10)); // dt = tau: w = e^-1
        _estimate.Record(10, Now);
        var w = Math.Exp(-1);
        Assert.Equal(100 * w + 10 * (1 - w), _estimate.Estimate(Now), 6);
    }

    [Fact]
    public void Record_LowerSampleRightAfter_BarelyMoves()
    {
        _estimate.Record(100, Now);
        _time.Advance(TimeSpan.FromMilliseconds(10));
        _estimate.Record(10, Now);
        Assert.InRange(_estimate.Estimate(Now), 99.8, 100);
    }

    [Fact]
    public void Estimate_NoNewSamples_DecaysTowardZero()
    {
        _estimate.Record(2000, Now);
        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(2000 * Math.Exp(-2), _estimate.Estimate(Now), 6);
        Assert.Equal(2000, _estimate.Milliseconds); // the stored cost is unchanged by reads
    }

    [Fact]
    public void Record_LowerSampleStampedBeforeTheLast_NoTimeWeightBeyondNow()
    {
        var sampled = Now;
        _estimate.Record(100, sampled);
        _estimate.Record(10, sampled - (long)(10 * _time.TimestampFrequency)); // a writer that read the clock earlier

        Assert.Equal(100, _estimate.Milliseconds, 9); // w = 1: the old cost stands, it does not overshoot
    }

    [Fact]
    public void Estimate_ReadFromBeforeTheLastSample_TheCostUndecayed()
    {
        var sampled = Now;
        _estimate.Record(80, sampled);
        Assert.Equal(80, _estimate.Estimate(sampled - (long)(10 * _time.TimestampFrequency)));
        Assert.Equal(80 * Math.Exp(-0.5), _estimate.Estimate(sampled + (long)(5 * _time.TimestampFrequency)), 9);
    }

    [Fact]
    public void Record_WithoutTime_StampedOnThePolicysClock()
    {
        _estimate.Record(200);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(200 * Math.Exp(-1), _estimate.Estimate(Now), 9);
    }
}
