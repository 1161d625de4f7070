namespace Aicp.Hub.Health;

/// <summary>
/// One agent's circuit breaker and rolling outcome window.
/// <list type="bullet">
/// <item>Closed -> Open after <c>ConsecutiveFailures</c> failures in a row, or when at least <c>MinimumThroughput</c>
/// attempts within <c>SamplingDuration</c> failed at <c>FailureRatio</c> or more.</item>
/// <item>Open for the break time (<c>BreakDuration</c>, doubling on each re-open from half-open, capped at
/// <c>MaxBreakDuration</c>); the break ending turns it HalfOpen lazily, on the next read.</item>
/// <item>HalfOpen lets one probe through (<see cref="TryAdmit"/> claims it); the next outcome closes the circuit
/// (success) or re-opens it (failure). A probe whose outcome never arrives (cancelled, agent gone) gives
/// its claim up after one base break time.</item>
/// <item>Outcomes while Open update the window but change no state.</item>
/// </list>
/// Failures are agent errors and timeouts. Closing resets the window and the doubling and restarts the
/// agent's slow start. Thread safety: every write takes the one private lock <c>_gate</c> (once per attempt
/// end or per probe claim); the reads routing does on every pick (<see cref="StateAt"/>, <see cref="Admits"/>,
/// <see cref="SuccessRate"/>) are lock-free volatile reads.
/// </summary>
internal sealed class CircuitBreaker
{
    private const int Buckets = 10;
    private const int SuccessPrior = 3; // a new agent's rate starts as if it had 3 successes: one early failure is not a verdict

    private readonly object _gate = new();
    private readonly AgentHealthPolicy _policy;
    private readonly long _bucketTicks;
    private readonly long[] _bucketEpoch = new long[Buckets];
    private readonly int[] _bucketOk = new int[Buckets];
    private readonly int[] _bucketFailed = new int[Buckets];

    private volatile CircuitState _state;
    private long _openUntil;
    private long _probeClaimedAt;
    private long _activeSince;
    private double _successRate = 1;
    private long _rateStamp;
    private int _consecutiveFailures;
    private int _reopens;

    public CircuitBreaker(AgentHealthPolicy policy, long now)
    {
        _policy = policy;
        _bucketTicks = Math.Max(1, policy.SamplingTicks / Buckets);
        _activeSince = now;
        Array.Fill(_bucketEpoch, long.MinValue);
    }

    /// <summary>When the agent last became active (registered, or its circuit closed after a break): slow start counts from here.</summary>
    public long ActiveSince => Volatile.Read(ref _activeSince);

    /// <summary>The stored state, without the lazy Open -> HalfOpen turn. Closed is the common, cheap case.</summary>
    public CircuitState StoredState => _state;

    /// <summary>How many times the circuit opened (or re-opened) since it last closed.</summary>
    public int Reopens => Volatile.Read(ref _reopens);

    /// <summary>The state at <paramref name="now"/>: Open turns HalfOpen when the break has ended.</summary>
    public CircuitState StateAt(long now)
    {
        var state = _state;
        return state == CircuitState.Open && now >= Volatile.Read(ref _openUntil) ? CircuitState.HalfOpen : state;
    }

    /// <summary>Whether a healthy-only pick may consider this agent: closed, or half-open with the probe free.</summary>
    public bool Admits(long now)
    {
        var state = _state;
        if (state == CircuitState.Closed)
        {
            return true;
        }

        if (state == CircuitState.Open && now < Volatile.Read(ref _openUntil))
        {
            return false;
        }

        return ProbeFree(Volatile.Read(ref _probeClaimedAt), now);
    }

    /// <summary>
    /// Called when a slot on the agent was taken. Closed: true. HalfOpen (or Open past its break): claims the
    /// one probe, false when another probe is out. Open: false. In panic (every agent open) always true.
    /// </summary>
    public bool TryAdmit(long now, bool panic)
    {
        if (_state == CircuitState.Closed || panic)
        {
            return true;
        }

        lock (_gate)
        {
            if (_state == CircuitState.Closed)
            {
                return true;
            }

            if (_state == CircuitState.Open)
            {
                if (now < _openUntil)
                {
                    return false;
                }

                _state = CircuitState.HalfOpen;
                _probeClaimedAt = 0;
            }

            if (!ProbeFree(_probeClaimedAt, now))
            {
                return false;
            }

            Volatile.Write(ref _probeClaimedAt, Math.Max(1, now));
            return true;
        }
    }

    /// <summary>Success rate over the sampling window (with a small prior of successes); 1 when the window is empty or old.</summary>
    public double SuccessRate(long now) =>
        now - Volatile.Read(ref _rateStamp) > _policy.SamplingTicks ? 1 : Volatile.Read(ref _successRate);

    public void OnSuccess(long now) => Record(now, ok: true);

    public void OnFailure(long now) => Record(now, ok: false);

    private bool ProbeFree(long claimedAt, long now) => claimedAt == 0 || now - claimedAt >= _policy.BreakTicks;

    private void Record(long now, bool ok)
    {
        lock (_gate)
        {
            var (total, failed) = AddToWindow(now, ok);
            _consecutiveFailures = ok ? 0 : _consecutiveFailures + 1;

            var state = _state;
            if (state == CircuitState.Open && now >= _openUntil && _probeClaimedAt != 0)
            {
                state = CircuitState.HalfOpen; // defensive: a claimed probe always turned the state already
            }

            switch (state)
            {
                case CircuitState.Closed when !ok:
                    if (_consecutiveFailures >= _policy.ConsecutiveFailures
                        || (total >= _policy.MinimumThroughput && failed >= _policy.FailureRatio * total))
                    {
                        Open(now, _policy.BreakTicks);
                    }

                    break;
                case CircuitState.HalfOpen when ok:
                    Close(now);
                    break;
                case CircuitState.HalfOpen:
                    _reopens++;
                    var doubled = _policy.BreakTicks << Math.Min(_reopens, 30);
                    Open(now, doubled <= 0 || doubled > _policy.MaxBreakTicks ? _policy.MaxBreakTicks : doubled);
                    break;
            }
        }
    }

    private void Open(long now, long breakTicks)
    {
        Volatile.Write(ref _openUntil, now + breakTicks);
        Volatile.Write(ref _probeClaimedAt, 0);
        _state = CircuitState.Open;
    }

    private void Close(long now)
    {
        _reopens = 0;
        _consecutiveFailures = 0;
        Array.Fill(_bucketEpoch, long.MinValue);
        Volatile.Write(ref _successRate, 1);
        Volatile.Write(ref _probeClaimedAt, 0);
        Volatile.Write(ref _activeSince, now);
        _state = CircuitState.Closed;
    }

    /// <summary>Adds one outcome to the bucketed window and returns the window's totals. Caller holds the lock.</summary>
    private (int Total, int Failed) AddToWindow(long now, bool ok)
    {
        var epoch = Math.DivRem(now, _bucketTicks, out var rem);
        if (rem < 0)
        {
            epoch--;
        }

        var index = (int)(((epoch % Buckets) + Buckets) % Buckets);
        if (_bucketEpoch[index] != epoch)
        {
            _bucketEpoch[index] = epoch;
            _bucketOk[index] = 0;
            _bucketFailed[index] = 0;
        }

        if (ok)
        {
            _bucketOk[index]++;
        }
        else
        {
            _bucketFailed[index]++;
        }

        int okTotal = 0, failedTotal = 0;
        for (var i = 0; i < Buckets; i++)
        {
            if (_bucketEpoch[i] > epoch - Buckets)
            {
                okTotal += _bucketOk[i];
                failedTotal += _bucketFailed[i];
            }
        }

        Volatile.Write(ref _successRate, (okTotal + SuccessPrior) / (double)(okTotal + failedTotal + SuccessPrior));
        Volatile.Write(ref _rateStamp, now);
        return (okTotal + failedTotal, failedTotal);
    }
}
