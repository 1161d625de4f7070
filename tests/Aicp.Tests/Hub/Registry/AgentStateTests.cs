using Aicp.Hub.Health;
using Aicp.Hub.Registry;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Registry;

public sealed class AgentStateTests
{
    private static AgentState NewAgent(int max) =>
        new("a1", "c1", ["image.label"], max, new Dictionary<string, string>(), DateTimeOffset.UnixEpoch);

    [Fact]
    public void TryAcquireSlot_UpToMaxConcurrency_ThenRefuses()
    {
        var agent = NewAgent(3);
        Assert.True(agent.TryAcquireSlot());
        Assert.True(agent.TryAcquireSlot());
        Assert.True(agent.TryAcquireSlot());
        Assert.False(agent.TryAcquireSlot());
        Assert.Equal(3, agent.Pending);

        agent.ReleaseSlot();
        Assert.Equal(2, agent.Pending);
        Assert.True(agent.TryAcquireSlot());
    }

    [Fact]
    public async Task TryAcquireSlot_ManyThreadsRacing_NeverExceedsMaxAndReturnsToZero()
    {
        var agent = NewAgent(5);
        var peak = 0;
        var acquired = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                if (agent.TryAcquireSlot())
                {
                    Interlocked.Increment(ref acquired);
                    var now = agent.Pending;
                    int seen;
                    while (now > (seen = Volatile.Read(ref peak)) && Interlocked.CompareExchange(ref peak, now, seen) != seen)
                    {
                    }

                    agent.ReleaseSlot();
                }
            }
        })));

        Assert.True(peak <= 5, $"pending peaked at {peak}");
        Assert.True(acquired > 0);
        Assert.Equal(0, agent.Pending);
    }

    [Fact]
    public void RecordCompletion_Success_RaisesTrustAndSetsPeakLatency()
    {
        var f = new RoutingFixture();
        var agent = f.Agent("a1", 1);
        agent.RecordCompletion("image.label", 100, ok: true, DateTimeOffset.UnixEpoch.AddSeconds(5));
        Assert.Equal(100, agent.LatencyFor("image.label")!.Milliseconds);
        agent.RecordCompletion("image.label", 200, ok: true, DateTimeOffset.UnixEpoch.AddSeconds(6));
        Assert.Equal(200, agent.LatencyFor("image.label")!.Milliseconds, 6); // peak EWMA: a slower sample replaces the cost
        Assert.True(agent.Trust.Value > TrustScore.Initial);
        Assert.Equal(2, agent.Completed);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(6), agent.LastCompletion);
    }

    [Fact]
    public void RecordTimeout_WithElapsed_FeedsLatencyTrustAndBreaker()
    {
        var f = new RoutingFixture();
        var agent = f.Agent("a1", 1);
        agent.RecordCompletion("image.label", 10, ok: true, f.Time.GetUtcNow());
        for (var i = 0; i < 5; i++)
        {
            agent.RecordTimeout("image.label", 1000);
        }

        Assert.Equal(1000, agent.LatencyMs("image.label", f.Time.GetTimestamp()));
        Assert.Equal(5, agent.TimedOut);
        Assert.True(agent.Trust.Value < TrustScore.Initial);
        Assert.Equal(CircuitState.Open, agent.Circuit.StateAt(f.Time.GetTimestamp()));
    }

    [Fact]
    public void TryAcquireSlot_OpenCircuit_RefusedUnlessPanic()
    {
        var f = new RoutingFixture();
        var agent = f.Agent("a1", 5);
        f.Open(agent);
        Assert.False(agent.TryAcquireSlot());
        Assert.Equal(0, agent.Pending);
        Assert.True(agent.TryAcquireSlot(panic: true));
        Assert.Equal(1, agent.Pending);
    }

    [Fact]
    public void TryAcquireSlot_HalfOpen_OneProbeThenRefused()
    {
        var f = new RoutingFixture();
        var agent = f.Agent("a1", 5);
        f.Open(agent);
        f.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(agent.TryAcquireSlot());
        Assert.False(agent.TryAcquireSlot());
        Assert.Equal(1, agent.Pending);
    }

    [Fact]
    public void Trust_SuccessesAfterFailures_Recovers()
    {
        var trust = new TrustScore();
        for (var i = 0; i < 10; i++)
        {
            trust.Timeout();
        }

        var low = trust.Value;
        for (var i = 0; i < 45; i++)
        {
            trust.Success();
        }

        Assert.True(low < 0.06);
        Assert.InRange(trust.Value, 0.85, 1.0);
    }

    [Fact]
    public void Trust_TimeoutCostsMoreThanErrorAndStaysInRange()
    {
        var erring = NewAgent(1);
        var timingOut = NewAgent(1);
        erring.RecordCompletion("image.label", 10, ok: false, DateTimeOffset.UnixEpoch);
        timingOut.RecordTimeout();
        Assert.True(timingOut.Trust.Value < erring.Trust.Value);
        Assert.True(erring.Trust.Value < TrustScore.Initial);

        for (var i = 0; i < 1000; i++)
        {
            erring.RecordCompletion("image.label", 10, ok: true, DateTimeOffset.UnixEpoch);
            timingOut.RecordTimeout();
        }

        Assert.InRange(erring.Trust.Value, 0.99, 1.0);
        Assert.InRange(timingOut.Trust.Value, 0.0, 0.01);
    }
}
