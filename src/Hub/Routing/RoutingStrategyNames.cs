namespace Aicp.Hub.Routing;

/// <summary>The names of the built-in strategies.</summary>
public static class RoutingStrategyNames
{
    public const string RoundRobin = "round-robin";
    public const string LeastLoaded = "least-loaded";
}
