using Aicp.Hub.Configuration;
using Aicp.Hub.Health;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Hub.Health;

public sealed class CircuitBreakerTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly List<CircuitTransition> _transitions = [];
    private readonly CircuitBreaker _breaker;

    public CircuitBreakerTests()
    {
        var policy = new AgentHealthPolicy(new AgentHealthOptions(), _time) { Transitioned = _transitions.Add };
        _breaker = new CircuitBreaker(policy, _time.GetTimestamp(), "a1");
    }

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

    [Fact]
    public void Transitions_OpenProbeCloseThenProbeFails_EachReportedOnceInOrder()
    {
        Fail(5);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(CircuitState.HalfOpen, _breaker.StateAt(Now));
        Assert.Single(_transitions); // reading the lazy turn is not a transition; claiming the probe is
        Assert.True(_breaker.TryAdmit(Now, panic: false));
        _breaker.OnSuccess(Now);
        Fail(5);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(_breaker.TryAdmit(Now, panic: false));
        Fail();

        Assert.Equal(
        [
            (CircuitState.Closed, CircuitState.Open), (CircuitState.Open, CircuitState.HalfOpen), (CircuitState.HalfOpen, CircuitState.Closed),
            (CircuitState.Closed, CircuitState.Open), (CircuitState.Open, CircuitState.HalfOpen), (CircuitState.HalfOpen, CircuitState.Open),
        ], _transitions.Select(t => (t.From, t.To)));
        Assert.All(_transitions, t => Assert.Equal("a1", t.AgentId));
        var breakTicks = _time.TimestampFrequency * 30;
        Assert.Equal([breakTicks, breakTicks, 2 * breakTicks], _transitions.Where(t => t.To == CircuitState.Open).Select(t => t.BreakTicks));
        Assert.Equal(1, _transitions[^1].Reopens);
    }

    [Fact]
    public void Close_AfterAReopen_BreakStartsOverFromTheBaseTime()
    {
        Fail(5);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(_breaker.TryAdmit(Now, panic: false));
        Fail(); // re-opens for 60 s
        Assert.Equal(1, _breaker.Reopens);
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.True(_breaker.TryAdmit(Now, panic: false));
        _breaker.OnSuccess(Now);
        Assert.Equal(CircuitState.Closed, _breaker.StateAt(Now));
        Assert.Equal(0, _breaker.Reopens);

        Fail(5);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(_breaker.TryAdmit(Now, panic: false));
        Fail();
        Assert.Equal(1, _breaker.Reopens);
        _time.Advance(TimeSpan.FromSeconds(60) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(CircuitState.Open, _breaker.StateAt(Now));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(CircuitState.HalfOpen, _breaker.StateAt(Now)); // 60 s again, not 120 s
    }

    [Fact]
    public void Close_ForgetsFailuresThatArrivedWhileOpen()
    {
        Fail(5);
        _time.Advance(TimeSpan.FromSeconds(29));
        Fail(5); // late answers of attempts sent before the circuit opened
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(_breaker.TryAdmit(Now, panic: false));
        _breaker.OnSuccess(Now);

        Assert.Equal(CircuitState.Closed, _breaker.StateAt(Now));
        Assert.Equal(1, _breaker.SuccessRate(Now));
        Fail();
        Assert.Equal(3 / 4.0, _breaker.SuccessRate(Now), 12); // only the failure since the close, against the prior
    }

    [Fact]
    public void Close_SamplingWindowLongerThanTheBreak_FailuresBeforeTheBreakNoLongerCount()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        var policy = new AgentHealthPolicy(new AgentHealthOptions { SamplingDuration = TimeSpan.FromSeconds(120) }, time);
        var breaker = new CircuitBreaker(policy, time.GetTimestamp());
        for (var i = 0; i < 5; i++)
        {
            breaker.OnFailure(time.GetTimestamp());
        }

        time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(breaker.TryAdmit(time.GetTimestamp(), panic: false));
        breaker.OnSuccess(time.GetTimestamp());
        for (var i = 0; i < 4; i++)
        {
            breaker.OnFailure(time.GetTimestamp());
        }

        // 4 failures since the close: below 5 in a row, and below the minimum throughput of 10.
        Assert.Equal(CircuitState.Closed, breaker.StateAt(time.GetTimestamp()));
        Assert.Equal(3 / 7.0, breaker.SuccessRate(time.GetTimestamp()), 12);
    }

    [Fact]
    public void OnFailure_JustBelowTheFailureRatio_StaysClosed()
    {
        for (var i = 0; i < 20; i++)
        {
            if (i < 2 || i % 2 == 1)
            {
                _breaker.OnSuccess(Now);
            }
            else
            {
                Fail();
            }
        }

        Fail(); // 10 of 21 failed, 2 in a row: just below half
        Assert.Equal(CircuitState.Closed, _breaker.StateAt(Now));
        Fail(); // 11 of 22: half
        Assert.Equal(CircuitState.Open, _breaker.StateAt(Now));
    }

    [Fact]
    public void StoredState_BreakOver_OpenUntilAProbeIsClaimed()
    {
        Fail(5);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(CircuitState.HalfOpen, _breaker.StateAt(Now));
        Assert.Equal(CircuitState.Open, _breaker.StoredState);
        Assert.True(_breaker.TryAdmit(Now, panic: false));
        Assert.Equal(CircuitState.HalfOpen, _breaker.StoredState);
    }

    [Fact]
    public void Admits_ProbeNeverAnswered_FreeAgainAfterOneBreak()
    {
        Fail(5);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(_breaker.TryAdmit(Now, panic: false));
        _time.Advance(TimeSpan.FromSeconds(30) - TimeSpan.FromTicks(1));
        Assert.False(_breaker.Admits(Now));
        Assert.True(_breaker.TryAdmit(Now, panic: true)); // every agent open: taken anyway, claiming nothing
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.True(_breaker.Admits(Now));
        Assert.True(_breaker.TryAdmit(Now, panic: false));
        Assert.False(_breaker.Admits(Now));
    }

    [Fact]
    public void TryAdmit_ProbeClosesTheCircuitWhileAnotherTaskWaitsToClaim_ThatTaskIsAdmitted()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        var policy = new AgentHealthPolicy(new AgentHealthOptions(), time);
        CircuitBreaker? breaker = null;
        Thread? other = null;
        bool? otherAdmitted = null;
        breaker = new CircuitBreaker(policy, time.GetTimestamp(), "a1", state =>
        {
            if (state != CircuitState.HalfOpen || other is not null)
            {
                return;
            }

            // Told under the breaker's lock, as the probe is claimed: another task sees the circuit half-open and waits
            // for the lock, while the probe's success closes the circuit.
            other = new Thread(() => otherAdmitted = breaker!.TryAdmit(time.GetTimestamp(), panic: false)) { IsBackground = true };
            other.Start();
            Assert.True(SpinWait.SpinUntil(() => other.ThreadState.HasFlag(ThreadState.WaitSleepJoin), TimeSpan.FromSeconds(30)));
            breaker!.OnSuccess(time.GetTimestamp());
        });
        for (var i = 0; i < 5; i++)
        {
            breaker.OnFailure(time.GetTimestamp());
        }

        time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(breaker.TryAdmit(time.GetTimestamp(), panic: false));
        Assert.True(other!.Join(TimeSpan.FromSeconds(30)));

        Assert.True(otherAdmitted);
        Assert.Equal(CircuitState.Closed, breaker.StateAt(time.GetTimestamp()));
        Assert.True(breaker.Admits(time.GetTimestamp())); // whatever the probe's claim left behind
    }

    [Fact]
    public void OnFailure_BreakDurationZero_HalfOpenAtOnceAndAFailedProbeWaitsTheMaximum()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        var policy = new AgentHealthPolicy(new AgentHealthOptions { BreakDuration = TimeSpan.Zero }, time);
        var breaker = new CircuitBreaker(policy, time.GetTimestamp());
        for (var i = 0; i < 5; i++)
        {
            breaker.OnFailure(time.GetTimestamp());
        }

        Assert.Equal(CircuitState.HalfOpen, breaker.StateAt(time.GetTimestamp()));
        Assert.True(breaker.TryAdmit(time.GetTimestamp(), panic: false));
        breaker.OnFailure(time.GetTimestamp());
        time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromTicks(1));
        Assert.Equal(CircuitState.Open, breaker.StateAt(time.GetTimestamp()));
        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(CircuitState.HalfOpen, breaker.StateAt(time.GetTimestamp()));
    }

    [Fact]
    public void OnFailure_BreakDoublingPastTheLongRange_StaysAtTheMaximum()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        var policy = new AgentHealthPolicy(
            new AgentHealthOptions { BreakDuration = TimeSpan.FromHours(1), MaxBreakDuration = TimeSpan.FromDays(1) }, time);
        var breaker = new CircuitBreaker(policy, time.GetTimestamp());
        for (var i = 0; i < 5; i++)
        {
            breaker.OnFailure(time.GetTimestamp());
        }

        time.Advance(TimeSpan.FromHours(1));
        for (var reopen = 1; reopen <= 32; reopen++)
        {
            Assert.True(breaker.TryAdmit(time.GetTimestamp(), panic: false));
            breaker.OnFailure(time.GetTimestamp());
            var expected = reopen < 5 ? TimeSpan.FromHours(1 << reopen) : TimeSpan.FromDays(1);
            time.Advance(expected - TimeSpan.FromTicks(1));
            Assert.Equal(CircuitState.Open, breaker.StateAt(time.GetTimestamp()));
            time.Advance(TimeSpan.FromTicks(1));
            Assert.Equal(CircuitState.HalfOpen, breaker.StateAt(time.GetTimestamp()));
        }
    }
}

public sealed class CircuitPartsTests
{
    private static readonly AgentHealthPolicy Policy = new(new AgentHealthOptions(), new FakeTimeProvider());

    [Fact]
    public void ShouldOpen_FifthConsecutiveFailure_TrueAndASuccessResetsTheRun()
    {
        var rule = new CircuitTripRule(Policy);
        Assert.Equal([false, false, false, false, true], Enumerable.Range(0, 5).Select(_ => rule.ShouldOpen(ok: false, total: 1, failed: 1)));
        Assert.False(rule.ShouldOpen(ok: true, total: 1, failed: 0));
        Assert.False(rule.ShouldOpen(ok: false, total: 1, failed: 1));
    }

    [Theory]
    [InlineData(10, 5, true)]
    [InlineData(10, 4, false)]
    [InlineData(9, 9, false)] // below the minimum throughput, and only one failure in a row
    public void ShouldOpen_FailureRatioOverMinimumThroughput(int total, int failed, bool opens) =>
        Assert.Equal(opens, new CircuitTripRule(Policy).ShouldOpen(ok: false, total, failed));

    [Fact]
    public void SuccessRate_UntilOneWholeWindowAfterTheLastOutcome_ThenOne()
    {
        var ticksPerSecond = TimeSpan.TicksPerSecond;
        var window = new OutcomeWindow(30 * ticksPerSecond);
        var last = new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero).UtcTicks;
        window.Add(last, ok: false);
        Assert.Equal(3 / 4.0, window.SuccessRate(last + 30 * ticksPerSecond), 12);
        Assert.Equal(1, window.SuccessRate(last + 30 * ticksPerSecond + 1));
    }

    [Fact]
    public void Add_OutcomeExactlyOneWindowOld_HasLeftTheWindow()
    {
        var ticksPerSecond = TimeSpan.TicksPerSecond;
        var window = new OutcomeWindow(30 * ticksPerSecond); // ten buckets of 3 s
        var start = new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero).UtcTicks; // a bucket's first tick
        Assert.Equal((1, 1), window.Add(start, ok: false));
        Assert.Equal((2, 1), window.Add(start + 29 * ticksPerSecond + ticksPerSecond / 2, ok: true)); // 29.5 s later: still in
        Assert.Equal((2, 0), window.Add(start + 30 * ticksPerSecond, ok: true)); // 30 s later: gone
    }

    [Fact]
    public void Add_OutcomesAcrossBuckets_TotalsOverTheWindowOnly()
    {
        var ticksPerSecond = TimeSpan.TicksPerSecond;
        var window = new OutcomeWindow(30 * ticksPerSecond);
        var start = new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero).UtcTicks;
        Assert.Equal((1, 0), window.Add(start, ok: true));
        Assert.Equal((2, 1), window.Add(start + 10 * ticksPerSecond, ok: false));
        Assert.Equal((2, 1), window.Add(start + 31 * ticksPerSecond, ok: true)); // the first left the window
        Assert.Equal((1 + 3) / 5.0, window.SuccessRate(start + 31 * ticksPerSecond), 9);
        window.Clear();
        Assert.Equal(1, window.SuccessRate(start + 31 * ticksPerSecond));
    }
}
