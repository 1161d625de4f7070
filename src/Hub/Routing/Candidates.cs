using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>
/// The agents one decision may choose from (<see cref="RoutingContext.Candidates"/>): positions in the pool's snapshot,
/// kept as integers so filtering a large pool writes no object references (no GC write barrier per agent), read back as
/// agents through the indexer and the enumerator. Valid for the one decision it was made for.
/// </summary>
internal readonly ref struct Candidates(ReadOnlySpan<AgentState> pool, ReadOnlySpan<int> positions)
{
    private readonly ReadOnlySpan<AgentState> _pool = pool;
    private readonly ReadOnlySpan<int> _positions = positions;

    public int Length => _positions.Length;

    public bool IsEmpty => _positions.IsEmpty;

    public AgentState this[int index] => _pool[_positions[index]];

    public Enumerator GetEnumerator() => new(_pool, _positions);

    /// <summary>Enumerates the candidate agents in pool order.</summary>
    public ref struct Enumerator(ReadOnlySpan<AgentState> pool, ReadOnlySpan<int> positions)
    {
        private readonly ReadOnlySpan<AgentState> _pool = pool;
        private readonly ReadOnlySpan<int> _positions = positions;
        private int _index = -1;

        public readonly AgentState Current => _pool[_positions[_index]];

        public bool MoveNext() => ++_index < _positions.Length;
    }
}
