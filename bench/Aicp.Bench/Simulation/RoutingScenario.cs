namespace Aicp.Bench.Simulation;

/// <summary>One simulated agent: how long its tasks take and how it fails.</summary>
/// <param name="MeanServiceMs">Mean of the exponential service time.</param>
/// <param name="Workers">Tasks it works on at once; more wait in its own FIFO.</param>
/// <param name="MaxConcurrency">Tasks it accepts (the hub's slot limit).</param>
/// <param name="FailureRate">Share of its tasks that end in an agent error (after the service time).</param>
/// <param name="StallFromMs">Start of a stall: tasks started in [from, to) take <paramref name="StallServiceMs"/>.</param>
internal sealed record SimAgentSpec(double MeanServiceMs, int Workers, int MaxConcurrency, double FailureRate = 0,
    double StallFromMs = 0, double StallToMs = 0, double StallServiceMs = 0);

/// <summary>
/// A workload: agents, Poisson arrivals, deadlines, how stale the hub's latency reports are, one agent whose share
/// of the attempts in a time window is reported (<paramref name="WatchKey"/> names it in the JSON output), a heavy tail
/// that belongs to attempts rather than agents (<paramref name="TailShare"/> of them take <paramref name="TailFactor"/>
/// times longer), and whether the scenario is also run with hedging (<paramref name="Hedged"/>).
/// </summary>
internal sealed record RoutingScenario(
    string Name,
    string Description,
    SimAgentSpec[] Agents,
    double ArrivalsPerSecond,
    int Tasks,
    double? DeadlineMs,
    int MaxAttempts,
    double ReportLagMs = 0,
    int WatchedAgent = -1,
    double WatchFromMs = 0,
    double WatchToMs = 0,
    string? WatchKey = null,
    double TailShare = 0,
    double TailFactor = 1,
    bool Hedged = false)
{
    /// <summary>A: heterogeneous pool, 70% of total capacity, 100k tasks.</summary>
    public static RoutingScenario A()
    {
        double[] means = [10, 10, 10, 20, 20, 50, 50, 100, 100, 200];
        var capacity = means.Sum(m => 1000 / m);
        return new("A", "heterogeneous pool: 10 agents, mean service 10..200 ms (exponential), one worker and 8 slots each, Poisson arrivals at 70% of capacity",
            [.. means.Select(m => new SimAgentSpec(m, 1, 8))], 0.7 * capacity, 100_000, DeadlineMs: null, MaxAttempts: 3);
    }

    /// <summary>B: Linkerd's stalling-backend test: 11 agents, 1000 tasks/s, one stalls at 2 s per task for 30 s, 1 s deadline.</summary>
    public static RoutingScenario B() =>
        new("B", "stalling agent: 11 agents (mean 10 ms, 50 slots, concurrent), 1000 tasks/s for 60 s; agent 0 takes 2 s per task from 10 s to 40 s; deadline 1 s with failover",
            [.. Enumerable.Range(0, 11).Select(i => i == 0
                ? new SimAgentSpec(10, 50, 50, StallFromMs: 10_000, StallToMs: 40_000, StallServiceMs: 2_000)
                : new SimAgentSpec(10, 50, 50))],
            1000, 60_000, DeadlineMs: 1_000, MaxAttempts: 3);

    /// <summary>C: one of 10 agents fails 30% of its tasks.</summary>
    public static RoutingScenario C() =>
        new("C", "flaky agent: 10 agents (mean 20 ms, one worker, 8 slots), agent 0 fails 30% of its tasks; 70% load for 60 s; failover up to 3 attempts",
            [.. Enumerable.Range(0, 10).Select(i => new SimAgentSpec(20, 1, 8, FailureRate: i == 0 ? 0.3 : 0))],
            350, 21_000, DeadlineMs: null, MaxAttempts: 3, WatchedAgent: 0, WatchFromMs: 25_000, WatchToMs: 30_000, WatchKey: "flakyShare25to30s");

    /// <summary>D: 10 equal agents whose latency reports reach the hub 2 s late.</summary>
    public static RoutingScenario D() =>
        new("D", "herding: 10 equal agents (mean 20 ms, one worker, 8 slots), 70% load for 60 s; every outcome reaches the hub's agent state 2 s late (stale latency)",
            [.. Enumerable.Range(0, 10).Select(_ => new SimAgentSpec(20, 1, 8))],
            350, 21_000, DeadlineMs: null, MaxAttempts: 3, ReportLagMs: 2_000);

    /// <summary>
    /// E: agents that run many tasks at once without slowing (mean 10, 15 and 100 ms: agent 2 is ten times slower than
    /// agent 0; 64 slots each) next to agents that work one task at a time (mean 10 ms, 8 slots), 1,500 tasks/s.
    /// </summary>
    public static RoutingScenario E() =>
        new("E", "parallel and serial agents: agents 0-2 run up to 64 tasks at once without slowing (mean 10, 15, 100 ms: agent 2 is 10x slower), agents 3-5 one at a time (mean 10 ms, 8 slots); 1,500 tasks/s for 30 s",
            [new SimAgentSpec(10, 64, 64), new SimAgentSpec(15, 64, 64), new SimAgentSpec(100, 64, 64),
             new SimAgentSpec(10, 1, 8), new SimAgentSpec(10, 1, 8), new SimAgentSpec(10, 1, 8)],
            1500, 45_000, DeadlineMs: null, MaxAttempts: 3, WatchedAgent: 2, WatchFromMs: 0, WatchToMs: double.PositiveInfinity, WatchKey: "slowShare");

    /// <summary>
    /// H: a heavy tail that is not agent-bound: 10 equal agents (mean 10 ms, 50 at once), 2% of attempts take 20x as long
    /// (a cold cache, a long input); 1,000 tasks/s for 60 s; run without and with hedging.
    /// </summary>
    public static RoutingScenario H() =>
        new("H", "heavy tail: 10 agents (mean 10 ms, 50 slots, concurrent), 2% of attempts on any agent take 20x as long; 1,000 tasks/s for 60 s; without and with hedging (p95 delay, 5% budget)",
            [.. Enumerable.Range(0, 10).Select(_ => new SimAgentSpec(10, 50, 50))],
            1000, 60_000, DeadlineMs: null, MaxAttempts: 3, TailShare: 0.02, TailFactor: 20, Hedged: true);

    public static IReadOnlyList<RoutingScenario> All { get; } = [A(), B(), C(), D(), E(), H()];
}
