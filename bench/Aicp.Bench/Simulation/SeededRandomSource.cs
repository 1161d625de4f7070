using Aicp.Hub.Routing;

namespace Aicp.Bench.Simulation;

/// <summary>
/// A single-threaded random source with a fixed seed, so a simulation run is the same in every process
/// (the hub's <see cref="DefaultRandomSource"/> mixes its seed with a per-process hash seed).
/// </summary>
internal sealed class SeededRandomSource(int seed) : IRandomSource
{
    private readonly Random _random = new(seed);

    public int Next(int maxExclusive) => _random.Next(maxExclusive);

    public double NextDouble() => _random.NextDouble();
}
