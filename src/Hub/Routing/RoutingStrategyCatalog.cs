using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace Aicp.Hub.Routing;

/// <summary>The registered strategies by name (case-insensitive), frozen at start-up.</summary>
internal sealed class RoutingStrategyCatalog
{
    private readonly FrozenDictionary<string, IRoutingStrategy> _byName;

    public RoutingStrategyCatalog(IEnumerable<IRoutingStrategy> strategies)
    {
        var map = new Dictionary<string, IRoutingStrategy>(StringComparer.OrdinalIgnoreCase);
        foreach (var strategy in strategies)
        {
            if (!map.TryAdd(strategy.Name, strategy))
            {
                throw new InvalidOperationException($"Two routing strategies are named '{strategy.Name}'.");
            }
        }

        _byName = map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        Names = [.. _byName.Keys.Order(StringComparer.Ordinal)];
    }

    public IReadOnlyList<string> Names { get; }

    public bool TryGet(string? name, [NotNullWhen(true)] out IRoutingStrategy? strategy)
    {
        if (name is null)
        {
            strategy = null;
            return false;
        }

        return _byName.TryGetValue(name, out strategy);
    }
}
