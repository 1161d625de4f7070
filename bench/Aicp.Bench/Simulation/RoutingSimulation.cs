using Aicp.Hub.Configuration;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Health;
using Aicp.Hub.Registry;
using Aicp.Hub.Routing;

namespace Aicp.Bench.Simulation;

/// <summary>The outcome of one strategy on one scenario.</summary>
/// <param name="ExtraAttemptShare">Attempts beyond one per task (failovers and hedges), per task.</param>
internal sealed record SimResult(string Strategy, double P50Ms, double P99Ms, double SuccessRate, double MaxShare,
    double WatchedShare, double PeakWindowShare, double ExtraAttemptShare, long Hedges, long[] AttemptsPerAgent);

/// <summary>
/// A discrete-event simulation of the hub's dispatch loop over the REAL routing code: <see cref="AgentState"/>
/// (slots, service-time model, peak EWMA, trust, circuit breaker, slow start), <see cref="CapabilityPool"/> (with the
/// capability's typical agent), <see cref="RoutingContext"/> with healthy-or-panic and the strategy under test, the
/// retry and hedge budgets (<see cref="AttemptBudget"/>) and the latency percentiles the hedge delay comes from
/// (<see cref="LatencyPercentiles"/>), all on a <see cref="SimulatedClock"/>. Only the agents and the event loop are
/// simulated. It mirrors <c>TaskDispatcher</c>: pick, take a slot (else wait in the capability's FIFO), attempt
/// timeout = the time left to the task's deadline, record the outcome on the agent (completion, error, timeout) with
/// the load it had when the attempt was sent, fail over to an untried agent on an error while attempts, time and the
/// retry budget remain; with hedging on, send one hedge to an untried agent with a free slot once the first attempt
/// has run for the capability's observed p95, within a 5% budget, keep the first completion and cancel the other
/// attempt. Nothing sleeps; a run of 100k tasks takes about a second.
/// </summary>
internal sealed class RoutingSimulation
{
    private const string Method = "sim.task";
    private const int MaxQueued = 10_000;

    private readonly RoutingScenario _scenario;
    private readonly IRoutingStrategy _strategy;
    private readonly bool _hedging;
    private readonly HedgingOptions _hedgingOptions = new();
    private readonly SimulatedClock _clock = new();
    private readonly PriorityQueue<Action, (long, long)> _events = new();
    private readonly Random _rng;
    private readonly IRandomSource _routingRandom;
    private readonly CapabilityPool _pool;
    private readonly AgentState[] _agents;
    private readonly SimAgent[] _sim;
    private readonly Dictionary<AgentState, int> _index = new(ReferenceEqualityComparer.Instance);
    private readonly Queue<SimTask> _waiting = new();
    private readonly List<double> _latencies = [];
    private readonly long[] _attempts;
    private readonly List<int[]> _windows = [];
    private readonly AttemptBudget _retryBudget;
    private readonly AttemptBudget _hedgeBudget;
    private readonly LatencyPercentiles _percentiles;
    private long _seq;
    private int _succeeded;
    private long _watchedTotal;
    private long _watchedHits;
    private long _hedges;

    public RoutingSimulation(RoutingScenario scenario, IRoutingStrategy strategy, int seed, bool hedging = false)
    {
        _scenario = scenario;
        _strategy = strategy;
        _hedging = hedging;
        _rng = new Random(seed);
        _routingRandom = new SeededRandomSource(seed + 1);
        var policy = new AgentHealthPolicy(new AgentHealthOptions(), _clock);
        _pool = new CapabilityPool(Method, MaxQueued, policy);
        _agents = new AgentState[scenario.Agents.Length];
        _sim = new SimAgent[scenario.Agents.Length];
        for (var i = 0; i < _agents.Length; i++)
        {
            var spec = scenario.Agents[i];
            _agents[i] = new AgentState($"agent-{i}", $"conn-{i}", [Method], spec.MaxConcurrency, new Dictionary<string, string>(), _clock.GetUtcNow(), policy);
            _sim[i] = new SimAgent(spec);
            _index[_agents[i]] = i;
        }

        foreach (var agent in _agents)
        {
            agent.JoinPool(_pool);
        }

        _pool.Replace(_agents);
        _attempts = new long[_agents.Length];
        var options = new AicpHubOptions();
        _retryBudget = new AttemptBudget(options.RetryBudget.Ratio, options.RetryBudget.MinPerSecond, options.RetryBudget.Window, _clock.TimestampFrequency);
        _hedgeBudget = new AttemptBudget(_hedgingOptions.BudgetRatio, 0, CapabilityDispatch.Window, _clock.TimestampFrequency);
        _percentiles = new LatencyPercentiles(CapabilityDispatch.Window, _clock.TimestampFrequency);
        if (strategy is OracleStrategy oracle)
        {
            oracle.ExpectedCompletionMs = TrueExpectedCompletionMs;
        }
    }

    /// <summary>The name the result carries: the strategy's, with <c>+hedging</c> when hedging was on.</summary>
    public string Label => _hedging ? _strategy.Name + "+hedging" : _strategy.Name;

    public SimResult Run()
    {
        var t = 0.0;
        for (var i = 0; i < _scenario.Tasks; i++)
        {
            t += -Math.Log(1 - _rng.NextDouble()) * 1000 / _scenario.ArrivalsPerSecond;
            var task = new SimTask(t, _scenario.DeadlineMs is { } d ? t + d : double.PositiveInfinity, _scenario.MaxAttempts);
            At(t, () => Submit(task));
        }

        while (_events.TryDequeue(out var action, out var key))
        {
            _clock.AdvanceTo(key.Item1);
            action();
        }

        foreach (var task in _waiting)
        {
            Finish(task, ok: false); // still waiting when the run ended
        }

        _latencies.Sort();
        var total = _attempts.Sum();
        var peakWindow = 0.0;
        foreach (var window in _windows)
        {
            var sum = window.Sum();
            if (sum >= 100)
            {
                peakWindow = Math.Max(peakWindow, window.Max() / (double)sum);
            }
        }

        return new SimResult(Label, Percentile(0.50), Percentile(0.99), _succeeded / (double)_scenario.Tasks,
            total == 0 ? 0 : _attempts.Max() / (double)total, _watchedTotal == 0 ? double.NaN : _watchedHits / (double)_watchedTotal,
            peakWindow, (total - _scenario.Tasks) / (double)_scenario.Tasks, _hedges, _attempts);
    }

    /// <summary>What only the simulation knows: the true expected completion of a task sent to the agent now.</summary>
    private double TrueExpectedCompletionMs(AgentState agent)
    {
        var index = _index[agent];
        var spec = _scenario.Agents[index];
        var now = _clock.NowMs;
        var mean = now >= spec.StallFromMs && now < spec.StallToMs
            ? spec.StallServiceMs
            : spec.MeanServiceMs * (1 - _scenario.TailShare + _scenario.TailShare * _scenario.TailFactor);
        var held = _sim[index].Held;
        var expected = held < spec.Workers ? mean : mean * (held + 1) / spec.Workers;
        return expected / (1 - spec.FailureRate);
    }

    private double Percentile(double q) =>
        _latencies.Count == 0 ? double.NaN : _latencies[Math.Min(_latencies.Count - 1, (int)Math.Ceiling(q * _latencies.Count) - 1)];

    private void At(double ms, Action action) => _events.Enqueue(action, (SimulatedClock.FromMs(ms), _seq++));

    private void Submit(SimTask task)
    {
        if (task.AttemptCount == 0)
        {
            _retryBudget.Deposit(_clock.GetTimestamp());
            _hedgeBudget.Deposit(_clock.GetTimestamp());
        }

        Dispatch(task);
    }

    private void Dispatch(SimTask task)
    {
        if (!TryDispatch(task, hedge: false, out var anyUntried))
        {
            if (!anyUntried || _waiting.Count >= MaxQueued)
            {
                Finish(task, ok: false); // no agents / overloaded
                return;
            }

            _waiting.Enqueue(task);
        }
    }

    private bool TryDispatch(SimTask task, bool hedge, out bool anyUntried)
    {
        var now = _clock.GetTimestamp();
        var context = new RoutingContext(_pool, _pool.Agents, task.Tried.AsSpan(0, task.AttemptCount), _routingRandom, now);
        anyUntried = context.HasUntriedAgent;
        var agent = context.Pick(_strategy, out var panicked);
        if (agent is null)
        {
            return false;
        }

        var load = agent.Load(now);
        if (!agent.TryAcquireSlot(panicked))
        {
            return false;
        }

        var index = _index[agent];
        task.Tried[task.AttemptCount++] = agent.AgentId;
        CountAttempt(index);
        var nowMs = _clock.NowMs;
        var spec = _scenario.Agents[index];
        var serviceMs = nowMs >= spec.StallFromMs && nowMs < spec.StallToMs
            ? spec.StallServiceMs
            : -Math.Log(1 - _rng.NextDouble()) * spec.MeanServiceMs;
        if (_scenario.TailShare > 0 && _rng.NextDouble() < _scenario.TailShare)
        {
            serviceMs *= _scenario.TailFactor; // the heavy tail belongs to the task's attempt, not to the agent
        }

        var attempt = new SimAttempt(task, index, nowMs, load) { ServiceMs = serviceMs, Fails = _rng.NextDouble() < spec.FailureRate };
        task.Running.Add(attempt);
        _sim[index].Accept(attempt, this);

        if (!double.IsPositiveInfinity(task.DeadlineMs))
        {
            At(Math.Max(nowMs, task.DeadlineMs), () => TimeOut(attempt));
        }

        if (_hedging && !hedge && task.AttemptCount < task.MaxAttempts
            && _percentiles.Percentile(_hedgingOptions.Percentile, now, TaskDispatcher.HedgeMinSamples) is { } delayMs)
        {
            At(nowMs + delayMs, () => Hedge(task, attempt));
        }

        return true;
    }

    /// <summary>The hedge delay passed: a second attempt on an untried agent with a free slot, within the budget.</summary>
    private void Hedge(SimTask task, SimAttempt first)
    {
        var now = _clock.GetTimestamp();
        if (task.Done || first.Ended || task.AttemptCount >= task.MaxAttempts || _clock.NowMs >= task.DeadlineMs || !_hedgeBudget.HasBalance(now))
        {
            return;
        }

        if (TryDispatch(task, hedge: true, out _))
        {
            _hedgeBudget.TryWithdraw(now);
            _hedges++;
        }
    }

    private void CountAttempt(int index)
    {
        _attempts[index]++;
        var now = _clock.NowMs;
        var second = (int)(now / 1000);
        while (_windows.Count <= second)
        {
            _windows.Add(new int[_agents.Length]);
        }

        _windows[second][index]++;
        if (_scenario.WatchedAgent >= 0 && now >= _scenario.WatchFromMs && now < _scenario.WatchToMs)
        {
            _watchedTotal++;
            if (index == _scenario.WatchedAgent)
            {
                _watchedHits++;
            }
        }
    }

    private void StartService(SimAttempt attempt) =>
        At(_clock.NowMs + attempt.ServiceMs, () => _sim[attempt.Agent].Finish(attempt, this));

    private void Completed(SimAttempt attempt)
    {
        if (attempt.Ended)
        {
            return; // timed out or superseded before; the late answer is discarded
        }

        End(attempt);
        var agent = _agents[attempt.Agent];
        var latency = _clock.NowMs - attempt.SentMs;
        var ok = !attempt.Fails;
        Report(() => agent.RecordCompletion(Method, latency, ok, _clock.GetUtcNow(), attempt.Load));

        var task = attempt.Task;
        if (ok)
        {
            _percentiles.Record(latency, _clock.GetTimestamp());
            foreach (var other in task.Running.ToArray())
            {
                Abandon(other); // superseded: the hedge or the attempt it hedged
            }

            Finish(task, ok: _clock.NowMs <= task.DeadlineMs);
        }
        else if (task.Running.Count > 0)
        {
            // another attempt of the task is still running: wait for it
        }
        else if (task.AttemptCount < task.MaxAttempts && _clock.NowMs < task.DeadlineMs && _retryBudget.TryWithdraw(_clock.GetTimestamp()))
        {
            Dispatch(task); // fail over to an untried agent
        }
        else
        {
            Finish(task, ok: false);
        }

        DrainQueue();
    }

    private void TimeOut(SimAttempt attempt)
    {
        if (attempt.Ended)
        {
            return;
        }

        Abandon(attempt);
        var agent = _agents[attempt.Agent];
        var elapsed = _clock.NowMs - attempt.SentMs;
        Report(() => agent.RecordTimeout(Method, elapsed, attempt.Load));
        if (attempt.Task.Running.Count == 0)
        {
            Finish(attempt.Task, ok: false); // the deadline has passed: no time left to fail over
        }

        DrainQueue();
    }

    /// <summary>The hub ends an attempt the agent has not answered: its slot comes back and the agent drops it.</summary>
    private void Abandon(SimAttempt attempt)
    {
        End(attempt);
        _sim[attempt.Agent].Drop();
        _sim[attempt.Agent].Cancel(attempt, this);
    }

    private void End(SimAttempt attempt)
    {
        attempt.Ended = true;
        attempt.Task.Running.Remove(attempt);
        _agents[attempt.Agent].ReleaseSlot();
    }

    private void Report(Action record)
    {
        if (_scenario.ReportLagMs > 0)
        {
            At(_clock.NowMs + _scenario.ReportLagMs, record);
        }
        else
        {
            record();
        }
    }

    /// <summary>A slot freed: waiting tasks, oldest first, take what they can.</summary>
    private void DrainQueue()
    {
        while (_waiting.TryPeek(out var head))
        {
            if (_clock.NowMs >= head.DeadlineMs)
            {
                _waiting.Dequeue();
                Finish(head, ok: false);
                continue;
            }

            if (!TryDispatch(head, hedge: false, out _))
            {
                return;
            }

            _waiting.Dequeue();
        }
    }

    private void Finish(SimTask task, bool ok)
    {
        if (task.Done)
        {
            return;
        }

        task.Done = true;
        if (ok)
        {
            _succeeded++;
        }

        _latencies.Add(Math.Min(_clock.NowMs, task.DeadlineMs) - task.ArrivalMs);
    }

    private sealed class SimTask(double arrivalMs, double deadlineMs, int maxAttempts)
    {
        public double ArrivalMs { get; } = arrivalMs;
        public double DeadlineMs { get; } = deadlineMs;
        public int MaxAttempts { get; } = maxAttempts;
        public string[] Tried { get; } = new string[maxAttempts];
        public int AttemptCount { get; set; }
        public List<SimAttempt> Running { get; } = new(2);
        public bool Done { get; set; }
    }

    private sealed class SimAttempt(SimTask task, int agent, double sentMs, int load)
    {
        public SimTask Task { get; } = task;
        public int Agent { get; } = agent;
        public double SentMs { get; } = sentMs;
        public int Load { get; } = load;
        public double ServiceMs { get; init; }
        public bool Fails { get; init; }
        public bool Ended { get; set; }
        public bool InService { get; set; }
    }

    /// <summary>An agent: <c>Workers</c> tasks in service at once, the rest in its FIFO; a cancel frees the worker.</summary>
    private sealed class SimAgent(SimAgentSpec spec)
    {
        private readonly Queue<SimAttempt> _queue = new();
        private int _busy;

        /// <summary>Tasks the agent holds now: in service plus waiting in its own queue (ended ones excluded).</summary>
        public int Held { get; private set; }

        public void Accept(SimAttempt attempt, RoutingSimulation sim)
        {
            Held++;
            _queue.Enqueue(attempt);
            StartNext(sim);
        }

        /// <summary>The hub ended the attempt (timeout, superseded); the agent lets it go.</summary>
        public void Drop() => Held--;

        public void Finish(SimAttempt attempt, RoutingSimulation sim)
        {
            if (!attempt.InService)
            {
                return; // cancelled while in service; the worker was freed then
            }

            attempt.InService = false;
            _busy--;
            if (!attempt.Ended)
            {
                Held--;
            }

            sim.Completed(attempt);
            StartNext(sim);
        }

        public void Cancel(SimAttempt attempt, RoutingSimulation sim)
        {
            if (attempt.InService)
            {
                attempt.InService = false;
                _busy--;
                StartNext(sim);
            }
        }

        private void StartNext(RoutingSimulation sim)
        {
            while (_busy < spec.Workers && _queue.TryDequeue(out var next))
            {
                if (next.Ended)
                {
                    continue; // timed out or superseded while queued at the agent
                }

                next.InService = true;
                _busy++;
                sim.StartService(next);
            }
        }
    }
}
