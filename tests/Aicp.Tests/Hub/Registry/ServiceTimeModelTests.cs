using Aicp.Hub.Configuration;
using Aicp.Hub.Health;
using Aicp.Hub.Registry;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Hub.Registry;

public sealed class ServiceTimeModelTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly ServiceTimeModel _model;

    public ServiceTimeModelTests()
    {
        _model = new ServiceTimeModel(new AgentHealthPolicy(new AgentHealthOptions(), _time));
    }

    private void Feed(int samples, Func<int, double> latencyAtLoad, int maxLoad = 8, int everyMs = 20)
    {
        for (var i = 0; i < samples; i++)
        {
            var load = i % (maxLoad + 1);
            _model.Record(latencyAtLoad(load), load, _time.GetTimestamp());
            _time.Advance(TimeSpan.FromMilliseconds(everyMs));
        }
    }

    [Fact]
    public void Predict_NoSample_DefaultLatencyPerTaskHeld()
    {
        Assert.False(_model.HasValue);
        Assert.Equal(AgentHealthDefaults.DefaultLatencyMs * 4, _model.Predict(3, _time.GetTimestamp()));
    }

    [Fact]
    public void Record_AgentWorkingOneTaskAtATime_SlopeEqualsServiceTime()
    {
        Feed(200, load => 20 * (load + 1));
        Assert.Equal(20, _model.BaseMs, 1);
        Assert.Equal(20, _model.PerTaskMs, 1);
        Assert.Equal(100, _model.Predict(4, _time.GetTimestamp()), 0);
    }

    [Fact]
    public void Record_AgentRunningTasksSideBySide_SlopeNearZero()
    {
        Feed(200, _ => 15);
        Assert.InRange(_model.PerTaskMs, 0, 0.6);
        Assert.InRange(_model.Predict(8, _time.GetTimestamp()), 14, 19);
    }

    [Fact]
    public void Record_OnlyEverSeenIdle_AssumedToQueue()
    {
        Feed(50, _ => 40, maxLoad: 0);
        Assert.Equal(40, _model.BaseMs, 3);
        Assert.Equal(40, _model.PerTaskMs, 3);
    }

    [Fact]
    public void Record_AgentSlowsDown_FitFollowsWithinAFewDecayTimes()
    {
        Feed(500, _ => 10, everyMs: 20); // 10 s of a 10 ms agent
        Feed(1500, _ => 50, everyMs: 20); // then 30 s at 50 ms
        Assert.InRange(_model.Predict(4, _time.GetTimestamp()), 46, 51); // at the loads it was seen at

    }

    [Fact]
    public void Predict_FewSamples_ShrunkTowardTheTypicalAgentAndBackToItWhenIdle()
    {
        var policy = new AgentHealthPolicy(new AgentHealthOptions(), _time);
        var typical = new TypicalServiceTime(policy);
        var peer = new ServiceTimeModel(policy, typical);
        var agent = new ServiceTimeModel(policy, typical);
        Assert.Equal(AgentHealthDefaults.DefaultLatencyMs * 2, agent.Predict(1, _time.GetTimestamp())); // nobody has history yet

        for (var i = 0; i < 200; i++)
        {
            peer.Record(10, i % 4, _time.GetTimestamp());
            _time.Advance(TimeSpan.FromMilliseconds(10));
        }

        Assert.InRange(agent.Predict(0, _time.GetTimestamp()), 9, 11); // no history of its own: the typical agent
        agent.Record(100, 0, _time.GetTimestamp()); // one unlucky sample
        var afterOne = agent.Predict(0, _time.GetTimestamp());
        Assert.InRange(afterOne, (100 + 5 * 9) / 6.0, (100 + 5 * 11) / 6.0); // weighed as one sample against five of the typical

        _time.Advance(5 * AgentHealthDefaults.LatencyDecay);
        Assert.InRange(agent.Predict(0, _time.GetTimestamp()), 9, 11.5); // its evidence faded: back to the typical agent
    }

    [Fact]
    public void Record_SeenAtOneLoadInAPoolOfParallelAgents_SlopeLeansOnThePool()
    {
        var policy = new AgentHealthPolicy(new AgentHealthOptions(), _time);
        var typical = new TypicalServiceTime(policy);
        var peer = new ServiceTimeModel(policy, typical);
        for (var i = 0; i < 200; i++)
        {
            peer.Record(10, i % 9, _time.GetTimestamp()); // flat from 0 to 8 tasks held
            _time.Advance(TimeSpan.FromMilliseconds(10));
        }

        var newcomer = new ServiceTimeModel(policy, typical);
        newcomer.Record(10, 0, _time.GetTimestamp());
        Assert.InRange(newcomer.PerTaskMs, 0, 1); // assumed parallel like its peers, not one task at a time
        Assert.InRange(typical.PerTaskMs, 0, 1);
    }

    private long Now => _time.GetTimestamp();

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    [Fact]
    public void Record_TwoSamplesAtOnce_ExactLeastSquaresFitWithTheBaseFloor()
    {
        // loads 2 and 4 taking 10 and 200 ms: mean load 3, mean latency 105, variance 1, covariance 95; the slope leans
        // on one task at a time: (95 + 0.25 x 105) / (1 + 0.25 x 4) = 60.625, which puts the intercept below zero: the
        // base is floored at 5% of the mean latency
        _model.Record(10, 2, Now);
        _model.Record(200, 4, Now);

        Assert.Equal(60.625, _model.PerTaskMs, 9);
        Assert.Equal(5.25, _model.BaseMs, 9);
        Assert.Equal(2, _model.Evidence(Now), 12);
        Assert.Equal(5.25 + 60.625 * 3, _model.Predict(3, Now), 9);
    }

    [Fact]
    public void Record_TwoSamplesAtOnceInAPool_SlopeLeansOnTheTypicalSlope()
    {
        var policy = new AgentHealthPolicy(new AgentHealthOptions(), _time);
        var typical = new TypicalServiceTime(policy);
        typical.Update(10, 2, Now);
        var model = new ServiceTimeModel(policy, typical);

        model.Record(10, 0, Now); // alone: variance 0, the slope is the typical one: (0 + 0.25 x 2) / 0.25
        Assert.Equal(2, model.PerTaskMs, 9);
        Assert.Equal(10, model.BaseMs, 9);
        model.Record(30, 2, Now); // mean load 1, mean latency 20, variance 1, covariance 10: (10 + 0.25 x 2) / 1.25 = 8.4

        Assert.Equal(8.4, model.PerTaskMs, 9);
        Assert.Equal(20 - 8.4, model.BaseMs, 9);
        // the typical agent moved toward each fit: (10 + 10) / 2, then (10 x 2 + 11.6) / 3
        Assert.Equal((10 * 2 + 11.6) / 3, typical.BaseMs, 9);
        Assert.Equal((2 * 2 + 8.4) / 3, typical.PerTaskMs, 9);
    }

    [Fact]
    public void Predict_FewSamplesWorseThanTheTypicalAgent_ShrunkByTheirDecayedEvidenceOnly()
    {
        var policy = new AgentHealthPolicy(new AgentHealthOptions(), _time);
        _model.Record(100, 0, Now); // one task at a time: base 100, perTask 100
        var typical = new TypicalServiceTime(policy);
        typical.Update(10, 2, Now);
        _model.Typical = typical;

        Assert.Equal((100 + 5 * 10) / 6.0 + (100 + 5 * 2) / 6.0 * 2, _model.Predict(2, Now), 9);

        _time.Advance(AgentHealthDefaults.LatencyDecay);
        var evidence = Math.Exp(-1);
        Assert.Equal(evidence, _model.Evidence(Now), 12);
        Assert.Equal(
            (evidence * 100 + 5 * 10) / (evidence + 5) + (evidence * 100 + 5 * 2) / (evidence + 5) * 2,
            _model.Predict(2, Now), 9);
    }

    [Fact]
    public void Predict_FewSamplesBetterThanTheTypicalAgent_Believed()
    {
        var policy = new AgentHealthPolicy(new AgentHealthOptions(), _time);
        _model.Record(10, 2, Now);
        _model.Record(200, 4, Now); // base 5.25, perTask 60.625 (above)
        var typical = new TypicalServiceTime(policy);
        typical.Update(10, 2, Now);
        _model.Typical = typical;

        // the base (5.25) is better than the typical agent's and kept; the slope is shrunk: (2 x 60.625 + 5 x 2) / 7 = 18.75
        Assert.Equal(5.25 + 18.75 * 3, _model.Predict(3, Now), 9);
    }

    [Fact]
    public void Predict_AgentThatRunsTasksSideBySide_NoFasterThanItsBaseSharedByItsSlots()
    {
        var policy = new AgentHealthPolicy(new AgentHealthOptions(), _time);
        var typical = new TypicalServiceTime(policy);
        typical.Update(40, 0, Now);
        var newcomer = new ServiceTimeModel(policy, typical);
        Assert.Equal(40 + 10 * 3, newcomer.Predict(3, Now, maxConcurrency: 4)); // no sample: the typical agent, 4 slots
        Assert.Equal(40, newcomer.Predict(3, Now), 6);

        var model = new ServiceTimeModel(policy, typical);
        model.Record(40, 0, Now);
        model.Record(40, 2, Now); // flat: perTask 0
        Assert.Equal(0, model.PerTaskMs, 9);
        Assert.Equal(40 + 10 * 3, model.Predict(3, Now, maxConcurrency: 4), 9);
        Assert.Equal(40, model.Predict(3, Now), 6);
    }

    [Fact]
    public void Evidence_DecaysWithTheTimeSinceTheLastSample()
    {
        Assert.Equal(0, _model.Evidence(Now));
        var sampled = Now;
        _model.Record(40, 0, sampled);
        var tau = Ticks(AgentHealthDefaults.LatencyDecay);

        Assert.Equal(1, _model.Evidence(sampled));
        Assert.Equal(1, _model.Evidence(sampled - tau)); // a read from before the sample: no decay, no growth
        Assert.Equal(1 - 1.0 / 128, _model.Evidence(sampled + tau / 128), 12); // within tau / 64: 1 - x
        Assert.Equal(Math.Exp(-1.0 / 64), _model.Evidence(sampled + tau / 64), 12);
        Assert.Equal(Math.Exp(-1), _model.Evidence(sampled + tau), 12);
        Assert.Equal(Math.Exp(-3), _model.Evidence(sampled + 3 * tau), 12);
    }

    [Fact]
    public void Record_SampleWeight_ClampedBetweenOneHundredthAndOne()
    {
        _model.Record(40, 0, Now, weight: 0);
        Assert.Equal(0.01, _model.Evidence(Now), 12);
        _model.Record(40, 0, Now, weight: 0.3);
        Assert.Equal(0.31, _model.Evidence(Now), 12);
        _model.Record(40, 0, Now, weight: 5);
        Assert.Equal(1.31, _model.Evidence(Now), 12);
    }

    [Fact]
    public void Record_SampleStampedBeforeTheLast_WeighsNoMoreThanTheOthers()
    {
        var sampled = Now;
        _model.Record(40, 0, sampled);
        _model.Record(40, 0, sampled - Ticks(TimeSpan.FromSeconds(5))); // a writer that read the clock earlier

        Assert.Equal(2, _model.Evidence(sampled - Ticks(TimeSpan.FromSeconds(5))), 12);
        Assert.Equal(40, _model.BaseMs, 9);
    }

    [Fact]
    public void Record_SamplesOfDifferentAges_WeightedLeastSquaresWithExponentialAgeWeights()
    {
        // (load, latency ms, age in decay times at the last sample)
        (int Load, double Ms, double Age)[] samples = [(0, 10, 1), (2, 30, 0.5), (4, 70, 0)];
        var tau = Ticks(AgentHealthDefaults.LatencyDecay);
        var start = Now;
        foreach (var (load, ms, age) in samples)
        {
            _model.Record(ms, load, start + (long)((1 - age) * tau));
        }

        double weight = 0, load1 = 0, ms1 = 0, load2 = 0, loadMs = 0;
        foreach (var (load, ms, age) in samples)
        {
            var w = Math.Exp(-age);
            weight += w;
            load1 += w * load;
            ms1 += w * ms;
            load2 += w * load * load;
            loadMs += w * load * ms;
        }

        var meanLoad = load1 / weight;
        var meanMs = ms1 / weight;
        var variance = load2 / weight - meanLoad * meanLoad;
        var covariance = loadMs / weight - meanLoad * meanMs;
        var perTask = (covariance + 0.25 * meanMs) / (variance + 0.25 * (1 + meanLoad)); // leaning on one task at a time
        Assert.Equal(perTask, _model.PerTaskMs, 9);
        Assert.Equal(meanMs - perTask * meanLoad, _model.BaseMs, 9);
        Assert.Equal(weight, _model.Evidence(start + tau), 9);
    }
}
