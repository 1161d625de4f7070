namespace Aicp.Agent.Sdk.Client;

/// <summary>Per-task routing and retry settings; null fields take the hub's defaults.</summary>
public sealed class SubmitOptions
{
    /// <summary>Strategy name, e.g. <c>round-robin</c> or <c>least-loaded</c>.</summary>
    public string? Strategy { get; init; }

    /// <summary>Per-attempt timeout in milliseconds (1 .. 600,000).</summary>
    public int? TimeoutMs { get; init; }

    /// <summary>Most attempts, each on a different agent (1 .. 10).</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>End-to-end deadline in milliseconds over all attempts and waiting (1 .. 3,600,000).</summary>
    public int? DeadlineMs { get; init; }
}
