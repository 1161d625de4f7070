using System.Runtime.CompilerServices;
using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>
/// Each decision takes the candidate one further along than the capability's last decision. The cursor is this
/// strategy's own, one per capability pool (kept, as YARP keeps its round-robin counter, in a
/// <see cref="ConditionalWeakTable{TKey, TValue}"/>, so it goes with the pool).
/// </summary>
internal sealed class RoundRobinStrategy : IRoutingStrategy
{
    private readonly ConditionalWeakTable<CapabilityPool, Cursor> _cursors = [];

    public string Name => RoutingStrategyNames.RoundRobin;

    public AgentState? Pick(in RoutingContext context)
    {
        var candidates = context.Candidates;
        if (candidates.IsEmpty)
        {
            return null;
        }

        var cursor = _cursors.GetValue(context.Pool, static _ => new Cursor());
        var next = (uint)Interlocked.Increment(ref cursor.Value);
        return candidates[(int)(next % (uint)candidates.Length)];
    }

    private sealed class Cursor
    {
        public int Value;
    }
}
