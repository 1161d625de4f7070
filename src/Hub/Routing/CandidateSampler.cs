using Aicp.Hub.Registry;

namespace Aicp.Hub.Routing;

/// <summary>Uniform random choice among a decision's candidates, allocation-free.</summary>
internal static class CandidateSampler
{
    /// <summary>One candidate chosen uniformly, or null when there is none.</summary>
    public static AgentState? One(in RoutingContext context)
    {
        var candidates = context.Candidates;
        return candidates.Length switch
        {
            0 => null,
            1 => candidates[0],
            _ => candidates[context.Random.Next(candidates.Length)],
        };
    }

    /// <summary>
    /// Two distinct candidates chosen uniformly (<paramref name="second"/> is null when there is only one). False when
    /// there is none.
    /// </summary>
    public static bool Two(in RoutingContext context, out AgentState first, out AgentState? second)
    {
        var candidates = context.Candidates;
        var n = candidates.Length;
        first = null!;
        second = null;
        if (n == 0)
        {
            // Stryker disable once Boolean : both outs are null here, and both callers then return the first sample: null
            return false;
        }

        var i = context.Random.Next(n);
        first = candidates[i];
        if (n > 1)
        {
            var j = context.Random.Next(n - 1);
            second = candidates[j >= i ? j + 1 : j]; // uniform over the other n - 1
        }

        return true;
    }
}
