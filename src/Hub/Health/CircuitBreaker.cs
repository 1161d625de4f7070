namespace Aicp.Hub.Health;

/// <summary>
/// One agent's circuit breaker: the state machine, as Polly's <c>CircuitStateController</c>, over two parts of its own:
/// the rolling outcome window (<see cref="OutcomeWindow"/>) and the rule that trips a closed circuit
/// (<see cref="CircuitTripRule"/>).
/// <list type="bullet">
/// <item>Closed -> Open when the trip rule says so.</item>
/// <item>Open for the break time (<c>BreakDuration</c>, doubling on each re-open from half-open, capped at
/// <c>MaxBreakDuration</c>); the break ending makes it HalfOpen when the next task claims the probe
/// (<see cref="TryAdmit"/>); reads see it half-open from the end of the break.</item>
/// <item>HalfOpen lets one probe through; its outcome closes the circuit (success) or re-opens it (failure). A probe
/// whose outcome never arrives (cancelled, agent gone) gives its claim up after one base break time.</item>
/// <item>Outcomes while Open update the window but change no state.</item>
/// </list>
/// Failures are agent errors and timeouts. Closing resets the window, the trip rule and the doubling, and restarts the
/// agent's slow start. Every stored transition is reported to <see cref="AgentHealthPolicy.Transitioned"/> (the
/// registry logs and counts them), after the lock is released.
/// Thread safety: every write takes the one private lock <c>_gate</c> (once per attempt end or per probe claim); the
/// reads routing does on every pick (<see cref="StateAt"/>, <see cref="Admits"/>, <see cref="SuccessRate"/>) are
/// lock-free volatile reads.
/// </summary>
internal sealed class CircuitBreaker
{
    private readonly object _gate = new();
    private readonly AgentHealthPolicy _policy;
    private readonly string _agentId;
    private readonly OutcomeWindow _window;
    private readonly CircuitTripRule _rule;
    private readonly Action<CircuitState>? _stored;

    private volatile CircuitState _state;
    private long _openUntil;
    private long _probeClaimedAt;
    private long _activeSince;
    private int _reopens;

    /// <param name="policy">Thresholds, break times and the clock.</param>
    /// <param name="now">When the agent became active.</param>
    /// <param name="agentId">The agent, for transition reports.</param>
    /// <param name="stored">Told the new state on every transition, under the lock (the agent mirrors "closed" next to its other routing fields).</param>
    public CircuitBreaker(AgentHealthPolicy policy, long now, string agentId = "", Action<CircuitState>? stored = null)
    {
        _policy = policy;
        _stored = stored;
        _agentId = agentId;
        _window = new OutcomeWindow(policy.SamplingTicks);
        _rule = new CircuitTripRule(policy);
        _activeSince = now;
    }

    /// <summary>When the agent last became active (registered, or its circuit closed after a break): slow start counts from here.</summary>
    public long ActiveSince => Volatile.Read(ref _activeSince);

    /// <summary>The stored state, without the lazy Open -> HalfOpen turn. Closed is the common, cheap case.</summary>
    public CircuitState StoredState => _state;

    /// <summary>How many times the circuit opened (or re-opened) since it last closed.</summary>
    public int Reopens => Volatile.Read(ref _reopens);

    /// <summary>The state at <paramref name="now"/>: Open reads as HalfOpen once the break has ended.</summary>
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

        CircuitTransition? transition = null;
        bool admitted;
        lock (_gate)
        {
            admitted = ClaimProbe(now, ref transition);
        }

        Report(transition);
        return admitted;
    }

    /// <summary>Success rate over the sampling window (with a small prior of successes); 1 when the window is empty or old.</summary>
    public double SuccessRate(long now) => _window.SuccessRate(now);

    public void OnSuccess(long now) => Record(now, ok: true);

    public void OnFailure(long now) => Record(now, ok: false);

    private bool ProbeFree(long claimedAt, long now) => claimedAt == 0 || now - claimedAt >= _policy.BreakTicks;

    /// <summary>Caller holds the lock.</summary>
    private bool ClaimProbe(long now, ref CircuitTransition? transition)
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

            transition = MoveTo(CircuitState.HalfOpen, 0);
            _probeClaimedAt = 0;
        }

        if (!ProbeFree(_probeClaimedAt, now))
        {
            return false;
        }

        Volatile.Write(ref _probeClaimedAt, Math.Max(1, now));
        return true;
    }

    private void Record(long now, bool ok)
    {
        CircuitTransition? transition = null;
        lock (_gate)
        {
            var (total, failed) = _window.Add(now, ok);
            var trip = _rule.ShouldOpen(ok, total, failed);
            switch (_state)
            {
                case CircuitState.Closed when trip:
                    transition = Open(now, _policy.BreakTicks);
                    break;
                case CircuitState.HalfOpen when ok:
                    transition = Close(now);
                    break;
                case CircuitState.HalfOpen:
                    _reopens++;
                    var doubled = _policy.BreakTicks << Math.Min(_reopens, 30);
                    // Stryker disable once Equality : a break doubled to exactly the maximum is the maximum either way
                    transition = Open(now, doubled <= 0 || doubled > _policy.MaxBreakTicks ? _policy.MaxBreakTicks : doubled);
                    break;
            }
        }

        Report(transition);
    }

    private CircuitTransition Open(long now, long breakTicks)
    {
        Volatile.Write(ref _openUntil, now + breakTicks);
        // Stryker disable once Statement : a claim left from the failed probe is at least one break old when the break ends, and claiming the next probe clears it
        Volatile.Write(ref _probeClaimedAt, 0);
        return MoveTo(CircuitState.Open, breakTicks);
    }

    private CircuitTransition Close(long now)
    {
        _reopens = 0;
        // Stryker disable once Statement : the closing success has just reset the run of failures in ShouldOpen
        _rule.Reset();
        _window.Clear();
        // Stryker disable once Statement : a closed circuit never reads the claim, and opening clears it
        Volatile.Write(ref _probeClaimedAt, 0);
        Volatile.Write(ref _activeSince, now);
        return MoveTo(CircuitState.Closed, 0);
    }

    private CircuitTransition MoveTo(CircuitState to, long breakTicks)
    {
        var from = _state;
        _state = to;
        _stored?.Invoke(to);
        return new CircuitTransition(_agentId, from, to, _reopens, breakTicks);
    }

    private void Report(CircuitTransition? transition)
    {
        if (transition is { } t)
        {
            _policy.Transitioned?.Invoke(t);
        }
    }
}
