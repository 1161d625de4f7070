using Aicp.Hub.Configuration;
using Aicp.Hub.Health;
using Aicp.Hub.Registry;
using Aicp.Hub.Routing;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Routing;

/// <summary>
/// The score formulas, value for value, on an agent where no factor is neutral: halfway through its slow start, holding
/// work, trusted less than a newcomer, with a success rate strictly between 0 and 1 and a latency estimate.
/// </summary>
public sealed class AgentScoresTests
{
    private const string Method = RoutingFixture.Method;

    /// <summary>An agent 5 s into its 10 s slow start, two errors then two successes behind it, two tasks in hand.</summary>
    private static (AgentState Agent, long Now) PenalisedAgentMidSlowStart()
    {
        var f = new RoutingFixture();
        var agent = f.Agents(1, pastSlowStart: false)[0];
        foreach (var ok in new[] { false, false, true, true })
        {
            agent.RecordCompletion(Method, 40, ok, f.Time.GetUtcNow());
        }

        f.Time.Advance(AgentHealthDefaults.SlowStartWindow / 2);
        RoutingFixture.Load(agent, 2);
        return (agent, f.Time.GetTimestamp());
    }

    [Fact]
    public void Scores_PenalisedAgentMidSlowStart_EachFormulaExactly()
    {
        var (agent, now) = PenalisedAgentMidSlowStart();
        var slowStart = agent.SlowStart(now);
        var success = agent.SuccessRate(now);
        var trust = agent.Trust.Value;
        var latency = agent.LatencyMs(Method, now);
        Assert.Equal(0.5, slowStart, 9);
        Assert.InRange(success, 0.6, 0.8); // 2 of 4 failed, over a prior of 3 successes: 5/7
        Assert.InRange(trust, 0.4, 0.49); // two errors (x 0.9 each), two successes (+5% of the gap each)
        Assert.InRange(latency, 20, 40); // estimated from the 40 ms samples
        Assert.Equal(2, agent.Pending);

        Assert.Equal(3 / slowStart, AgentScores.LoadCost(agent, now), 9);
        Assert.Equal(latency * 3 / slowStart, AgentScores.LatencyCost(agent, Method, now), 9);
        Assert.Equal(trust / TrustScore.Initial * Math.Pow(success, 8) * slowStart, AgentScores.Confidence(agent, now), 12);
        Assert.Equal(success * success * slowStart / latency, AgentScores.PerformanceWeight(agent, Method, now), 12);
        Assert.Equal(trust * slowStart, AgentScores.TrustWeight(agent, now), 12);
    }

    [Fact]
    public void Scores_TrustBelowTheFloor_CountsAsTheFloor()
    {
        var (agent, now) = PenalisedAgentMidSlowStart();
        for (var i = 0; i < 12; i++)
        {
            agent.RecordTimeout(); // x 0.8 each
        }

        var slowStart = agent.SlowStart(now);
        Assert.InRange(agent.Trust.Value, 0.01, 0.04);
        Assert.Equal(AgentScores.MinTrustFactor * slowStart, AgentScores.TrustWeight(agent, now), 12);
        Assert.Equal(AgentScores.MinTrustFactor / TrustScore.Initial * Math.Pow(agent.SuccessRate(now), 8) * slowStart,
            AgentScores.Confidence(agent, now), 12);
    }

    [Fact]
    public void Confidence_TrustAboveTheNewcomersLevel_NotRewardedBeyondOne()
    {
        var f = new RoutingFixture();
        var agent = f.Agents(1)[0];
        for (var i = 0; i < 20; i++)
        {
            agent.RecordCompletion(Method, 40, ok: true, f.Time.GetUtcNow());
        }

        var now = f.Time.GetTimestamp();
        Assert.InRange(agent.Trust.Value, 0.6, 1);
        Assert.Equal(1, AgentScores.Confidence(agent, now), 12);
    }

    [Fact]
    public void PredictedCompletionMs_CapabilityTheAgentDoesNotServe_DefaultLatencyPerTaskHeld()
    {
        var f = new RoutingFixture();
        var agent = f.Agents(1)[0];
        agent.RecordCompletion(Method, 400, ok: true, f.Time.GetUtcNow());
        RoutingFixture.Load(agent, 2);
        var now = f.Time.GetTimestamp();
        // nothing known of "text.translate" on this agent: the default 30 ms for each of the 2 held tasks and the new one
        Assert.Equal(AgentHealthDefaults.DefaultLatencyMs * 3, AgentScores.PredictedCompletionMs(agent, "text.translate", now), 9);
    }
}
