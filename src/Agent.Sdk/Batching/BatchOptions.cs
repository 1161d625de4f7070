namespace Aicp.Agent.Sdk.Batching;

/// <summary>How an agent gathers concurrent tasks of one capability into one handler call.</summary>
public sealed class BatchOptions
{
    /// <summary>Most tasks in one call. The default value is 16. Also bounded by the agent's MaxConcurrency.</summary>
    public int MaxBatchSize { get; init; } = 16;

    /// <summary>How long the first task of a batch waits for others to join. The default value is 5 ms.</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Batches of this capability running at once. The default value is 1 (one model, one stream).</summary>
    public int MaxConcurrentBatches { get; init; } = 1;

    internal void Validate()
    {
        if (MaxBatchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, "At least 1.");
        }

        if (MaxWait < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxWait), MaxWait, "Not negative.");
        }

        if (MaxConcurrentBatches < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentBatches), MaxConcurrentBatches, "At least 1.");
        }
    }
}
