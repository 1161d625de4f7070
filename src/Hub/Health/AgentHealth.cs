namespace Aicp.Hub.Health;

/// <summary>
/// How far the hub trusts one agent: its <see cref="Trust"/> score, its <see cref="Circuit"/> breaker (with the rolling
/// success window), the slow-start ramp, and the outcome counts the status endpoints show. Fed once per attempt end.
/// </summary>
internal sealed class AgentHealth
{
    private long _completed;
    private long _failed;
    private long _timedOut;
    private long _lastCompletionTicks;

    /// <param name="policy">Thresholds, windows and the clock.</param>
    /// <param name="agentId">The agent, for circuit transition reports.</param>
    /// <param name="circuitStored">Told the circuit's new state on every transition (see <see cref="CircuitBreaker"/>).</param>
    public AgentHealth(AgentHealthPolicy policy, string agentId, Action<CircuitState>? circuitStored = null)
    {
        Policy = policy;
        Circuit = new CircuitBreaker(policy, policy.Time.GetTimestamp(), agentId, circuitStored);
    }

    public AgentHealthPolicy Policy { get; }

    public TrustScore Trust { get; } = new();

    public CircuitBreaker Circuit { get; }

    public long Completed => Interlocked.Read(ref _completed);

    public long Failed => Interlocked.Read(ref _failed);

    public long TimedOut => Interlocked.Read(ref _timedOut);

    /// <summary>When the last completion (success or agent error) arrived, or null.</summary>
    public DateTimeOffset? LastCompletion
    {
        get
        {
            var ticks = Interlocked.Read(ref _lastCompletionTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>Slow-start share factor in [floor, 1]: ramps up after registration and after the circuit closes.</summary>
    public double SlowStart(long now) => Policy.SlowStart(Circuit.ActiveSince, now);

    /// <summary>Success rate over the breaker's rolling window (1 without recent history).</summary>
    public double SuccessRate(long now) => Circuit.SuccessRate(now);

    /// <summary>The agent answered: success (<paramref name="ok"/>) or an agent error.</summary>
    public void RecordAnswer(bool ok, long now, DateTimeOffset at)
    {
        Interlocked.Exchange(ref _lastCompletionTicks, at.UtcTicks);
        if (ok)
        {
            Interlocked.Increment(ref _completed);
            Trust.Success();
            Circuit.OnSuccess(now);
        }
        else
        {
            Interlocked.Increment(ref _failed);
            Trust.Error();
            Circuit.OnFailure(now);
        }
    }

    /// <summary>The agent did not answer within the attempt timeout.</summary>
    public void RecordTimeout(long now)
    {
        Interlocked.Increment(ref _timedOut);
        Trust.Timeout();
        Circuit.OnFailure(now);
    }
}
