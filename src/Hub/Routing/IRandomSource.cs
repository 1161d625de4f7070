namespace Aicp.Hub.Routing;

/// <summary>The randomness routing uses, injected so tests can script it.</summary>
internal interface IRandomSource
{
    /// <summary>A uniform integer in [0, maxExclusive).</summary>
    int Next(int maxExclusive);

    /// <summary>A uniform double in [0, 1).</summary>
    double NextDouble();
}

/// <summary>Thread-safe random source: a seeded generator per thread, or the shared one.</summary>
internal sealed class DefaultRandomSource : IRandomSource
{
    private readonly int? _seed;
    private readonly ThreadLocal<Random>? _local;
    private int _threadSeq;

    public DefaultRandomSource(int? seed = null)
    {
        _seed = seed;
        if (seed is not null)
        {
            _local = new ThreadLocal<Random>(() => new Random(HashCode.Combine(_seed, Interlocked.Increment(ref _threadSeq))));
        }
    }

    public int Next(int maxExclusive) => (_local?.Value ?? Random.Shared).Next(maxExclusive);

    public double NextDouble() => (_local?.Value ?? Random.Shared).NextDouble();
}
