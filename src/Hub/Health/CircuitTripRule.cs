namespace Aicp.Hub.Health;

/// <summary>
/// When a closed circuit opens, like Polly's <c>CircuitBehavior</c>: after <c>ConsecutiveFailures</c> failures in a row
/// (Envoy's outlier detection), or when at least <c>MinimumThroughput</c> attempts within the sampling window failed at
/// <c>FailureRatio</c> or more (Polly's advanced breaker). Not thread-safe: the circuit breaker calls it under its lock.
/// </summary>
internal sealed class CircuitTripRule(AgentHealthPolicy policy)
{
    private int _consecutiveFailures;

    /// <summary>Counts one outcome; true when, with the window's totals after it, a closed circuit should open.</summary>
    public bool ShouldOpen(bool ok, int total, int failed)
    {
        _consecutiveFailures = ok ? 0 : _consecutiveFailures + 1;
        return !ok
            && (_consecutiveFailures >= policy.ConsecutiveFailures || (total >= policy.MinimumThroughput && failed >= policy.FailureRatio * total));
    }

    /// <summary>Starts counting afresh (the circuit closed).</summary>
    public void Reset() => _consecutiveFailures = 0;
}
