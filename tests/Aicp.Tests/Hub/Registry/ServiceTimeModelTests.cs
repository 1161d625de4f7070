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
}
