namespace Aicp.Agent.Sdk.Client;

/// <summary>
/// A routing strategy by name. The hub's strategies are the static members; a hub may know others, which
/// <c>new RoutingStrategy("name")</c> names. An unknown name ends the task <c>rejected</c> / <c>unknown_strategy</c>.
/// </summary>
/// <param name="Name">The strategy's name as the hub knows it (compared case-insensitively by the hub).</param>
public readonly record struct RoutingStrategy(string Name)
{
    /// <summary>The hub's default: latency, load, trust and health combined.</summary>
    public static RoutingStrategy Adaptive { get; } = new("adaptive");

    /// <summary>Each eligible agent in turn.</summary>
    public static RoutingStrategy RoundRobin { get; } = new("round-robin");

    /// <summary>The agent with the fewest tasks in flight relative to its capacity.</summary>
    public static RoutingStrategy LeastLoaded { get; } = new("least-loaded");

    /// <summary>The less loaded of two agents drawn at random.</summary>
    public static RoutingStrategy PowerOfTwo { get; } = new("power-of-two");

    /// <summary>Agents weighted by their latency estimate.</summary>
    public static RoutingStrategy PerformanceBased { get; } = new("performance-based");

    /// <summary>Agents weighted by their trust score.</summary>
    public static RoutingStrategy TrustWeighted { get; } = new("trust-weighted");

    /// <summary>Agents weighted by capacity, trust and latency together.</summary>
    public static RoutingStrategy Weighted { get; } = new("weighted");

    /// <summary>Uniformly at random.</summary>
    public static RoutingStrategy Random { get; } = new("random");

    /// <summary>The strategy's name.</summary>
    public override string ToString() => Name;
}
