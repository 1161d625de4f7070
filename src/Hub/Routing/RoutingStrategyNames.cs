namespace Aicp.Hub.Routing;

/// <summary>The names of the built-in strategies.</summary>
public static class RoutingStrategyNames
{
    public const string RoundRobin = "round-robin";
    public const string LeastLoaded = "least-loaded";
    public const string PowerOfTwo = "power-of-two";
    public const string TrustWeighted = "trust-weighted";
    public const string PerformanceBased = "performance-based";
    public const string Random = "random";
    public const string Weighted = "weighted";

    /// <summary>The hub default: latency, load, trust and health combined, best of two.</summary>
    public const string Adaptive = "adaptive";
}
