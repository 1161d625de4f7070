namespace Aicp.Agent.Sdk.Client;

/// <summary>Per-task routing and retry settings; null fields take the hub's defaults.</summary>
public sealed class SubmitOptions
{
    /// <summary>The routing strategy; the hub's default for the capability when null.</summary>
    public RoutingStrategy? Strategy { get; init; }

    /// <summary>Per-attempt timeout (1 ms .. 10 min, whole milliseconds); the hub's default (30 s) when null.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Most attempts, each on a different agent (1 .. 10); the hub's default (3) when null.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>
    /// End-to-end deadline over all attempts and waiting (1 ms .. 1 hour, whole milliseconds): the hub refuses a task
    /// it predicts cannot make it (<c>deadline_unreachable</c>), drops one whose deadline passes while it waits
    /// (<c>deadline_exceeded</c>), and gives each attempt only the time left. None when null.
    /// </summary>
    public TimeSpan? Deadline { get; init; }

    /// <summary>
    /// Capabilities to try in order when the method has no agent to take the task, or when all its attempts failed
    /// (at most 8, distinct, not the method itself). Replaces the method's chain in the hub's routing file; that chain
    /// when null.
    /// </summary>
    public IReadOnlyList<string>? Fallbacks { get; init; }
}
