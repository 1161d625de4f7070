using Aicp.Hub.Configuration;
using Aicp.Hub.Health;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Hub.Health;

public sealed class CircuitBreakerTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly CircuitBreaker _breaker;

    public CircuitBreakerTests() => _breaker = new CircuitBreaker(new AgentHealthPolicy(new AgentHealthOptions(), _time), _time.GetTimestamp());

    private long Now => _time.GetTimestamp();

    private void Fail(int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            _breaker.OnFailure(Now);
        }
    }

    [Fact]
    public void OnFailure_FiveConsecutive_Opens()
    {
        Fail(4);
        Assert.Equal(CircuitState.Closed, _breaker.StateAt(Now));
        Fail();
        Assert.Equal(CircuitState.Open, _breaker.StateAt(Now));
        Assert.False(_breaker.Admits(Now));
        Assert.False(_breaker.TryAdmit(Now, panic: false));
        Assert.True(_breaker.TryAdmit(Now, panic: true));
    }

    [Fact]
    public void OnFailure_FourThenSuccess_StaysClosed()
    {
        Fail(4);
        _breaker.OnSuccess(Now);
        Fail(4);
        Assert.Equal(CircuitState.Closed, _breaker.StateAt(Now));
    }

    [Fact]
    public void OnFailure_HalfOfTenAttemptsWithinWindow_Opens()
    {
        for (var i = 0; i < 9; i++)
        {
            if (i % 2 == 0)
            {
                _breaker.OnSuccess(Now);
            }
            else
            {
                Fail();
            }

            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(CircuitState.Closed, _breaker.StateAt(Now)); // 4 of 9: below the minimum throughput
        Fail();
        Assert.Equal(CircuitState.Open, _breaker.StateAt(Now)); // 5 of 10 within 30 s
    }

    [Fact]
    public void OnFailure_OldOutcomesLeftTheWindow_DoNotCount()
    {
        for (var i = 0; i < 8; i++)
        {
            if (i % 2 == 0)
            {
                _breaker.OnSuccess(Now);
            }
            else
            {
                Fail();
            }
        }

        _time.Advance(TimeSpan.FromSeconds(31));
        Fail(2);
        Assert.Equal(CircuitState.Closed, _breaker.StateAt(Now));
    }

    [Fact]
    public void StateAt_BreakElapsed_HalfOpenAdmitsOneProbe()
    {
        Fail(5);
        _time.Advance(TimeSpan.FromSeconds(29.9));
        Assert.Equal(CircuitState.Open, _breaker.StateAt(Now));
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(CircuitState.HalfOpen, _breaker.StateAt(Now));
        Assert.True(_breaker.Admits(Now));

        Assert.True(_breaker.TryAdmit(Now, panic: false)); // the probe
        Assert.False(_breaker.Admits(Now));
        Assert.False(_breaker.TryAdmit(Now, panic: false));
    }

    [Fact]
    public void OnSuccess_Probe_ClosesAndRestartsSlowStart()
    {
        Fail(5);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(_breaker.TryAdmit(Now, panic: false));
        _breaker.OnSuccess(Now);

        Assert.Equal(CircuitState.Closed, _breaker.StateAt(Now));
        Assert.Equal(Now, _breaker.ActiveSince);
        Assert.Equal(1, _breaker.SuccessRate(Now));
        Fail(4);
        Assert.Equal(CircuitState.Closed, _breaker.StateAt(Now)); // the window was reset on close
    }

    [Fact]
    public void OnFailure_ProbeFails_ReopensWithDoubledBreakCappedAtFiveMinutes()
    {
        Fail(5);
        TimeSpan[] expected = [TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(240), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5)];
        _time.Advance(TimeSpan.FromSeconds(30));
        foreach (var breakTime in expected)
        {
            Assert.True(_breaker.TryAdmit(Now, panic: false));
            Fail();
            Assert.Equal(CircuitState.Open, _breaker.StateAt(Now));
            _time.Advance(breakTime - TimeSpan.FromMilliseconds(1));
            Assert.Equal(CircuitState.Open, _breaker.StateAt(Now));
            _time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(CircuitState.HalfOpen, _breaker.StateAt(Now));
        }
    }

    [Fact]
    public void TryAdmit_ProbeNeverAnswered_ClaimExpiresAfterOneBreak()
    {
        Fail(5);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(_breaker.TryAdmit(Now, panic: false));
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(_breaker.TryAdmit(Now, panic: false));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(_breaker.TryAdmit(Now, panic: false));
    }

    [Fact]
    public void OnFailure_WhileOpen_ChangesNothing()
    {
        Fail(5);
        _time.Advance(TimeSpan.FromSeconds(10));
        Fail(20);
        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(CircuitState.HalfOpen, _breaker.StateAt(Now)); // still the first 30 s break
    }

    [Fact]
    public void SuccessRate_Window_CountsWithPriorAndForgetsOldOutcomes()
    {
        Assert.Equal(1, _breaker.SuccessRate(Now));
        _breaker.OnSuccess(Now);
        Fail();
        Assert.Equal((1 + 3) / 5.0, _breaker.SuccessRate(Now), 9);
        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(1, _breaker.SuccessRate(Now));
    }
}
