using Aicp.Hub.Configuration;
using Aicp.Hub.Health;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Hub.Health;

public sealed class AgentHealthTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly List<CircuitState> _stored = [];
    private readonly AgentHealth _health;

    public AgentHealthTests() =>
        _health = new AgentHealth(new AgentHealthPolicy(new AgentHealthOptions(), _time), "a1", _stored.Add);

    private long Now => _time.GetTimestamp();

    [Fact]
    public void New_NoOutcomeYet()
    {
        Assert.Null(_health.LastCompletion);
        Assert.Equal((0, 0, 0), (_health.Completed, _health.Failed, _health.TimedOut));
        Assert.Equal(TrustScore.Initial, _health.Trust.Value);
        Assert.Equal(1, _health.SuccessRate(Now));
        Assert.Equal(CircuitState.Closed, _health.Circuit.StateAt(Now));
    }

    [Fact]
    public void RecordAnswer_Success_CountsRaisesTrustAndStampsTheCompletion()
    {
        var at = _time.GetUtcNow();
        _health.RecordAnswer(ok: true, Now, at);

        Assert.Equal((1, 0, 0), (_health.Completed, _health.Failed, _health.TimedOut));
        Assert.Equal(0.525, _health.Trust.Value, 12);
        Assert.Equal(at, _health.LastCompletion);
        Assert.Equal(1, _health.SuccessRate(Now));
    }

    [Fact]
    public void RecordAnswer_Error_CountsLowersTrustAndFeedsTheBreaker()
    {
        var at = _time.GetUtcNow();
        _health.RecordAnswer(ok: false, Now, at);

        Assert.Equal((0, 1, 0), (_health.Completed, _health.Failed, _health.TimedOut));
        Assert.Equal(0.45, _health.Trust.Value, 12);
        Assert.Equal(at, _health.LastCompletion);
        Assert.Equal(3 / 4.0, _health.SuccessRate(Now), 12);
        for (var i = 1; i < AgentHealthDefaults.ConsecutiveFailures; i++)
        {
            _health.RecordAnswer(ok: false, Now, at);
        }

        Assert.Equal(CircuitState.Open, _health.Circuit.StateAt(Now));
        Assert.Equal([CircuitState.Open], _stored);
    }

    [Fact]
    public void RecordTimeout_CountsLowersTrustMoreAndLeavesTheLastCompletion()
    {
        _health.RecordTimeout(Now);

        Assert.Equal((0, 0, 1), (_health.Completed, _health.Failed, _health.TimedOut));
        Assert.Equal(0.4, _health.Trust.Value, 12);
        Assert.Null(_health.LastCompletion);
        Assert.Equal(3 / 4.0, _health.SuccessRate(Now), 12);
        for (var i = 1; i < AgentHealthDefaults.ConsecutiveFailures; i++)
        {
            _health.RecordTimeout(Now);
        }

        Assert.Equal(CircuitState.Open, _health.Circuit.StateAt(Now));
        Assert.Equal([CircuitState.Open], _stored);
    }

    [Fact]
    public void SlowStart_CountsFromCreation()
    {
        Assert.Equal(AgentHealthDefaults.SlowStartFloor, _health.SlowStart(Now));
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(0.4, _health.SlowStart(Now), 12);
    }
}
