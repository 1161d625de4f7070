using Aicp.Hub.Registry;
using Aicp.Hub.RoutingConfiguration;
using Aicp.Protocol;

namespace Aicp.Hub.FrontDoors;

/// <summary>
/// The models the hub's doors offer by name (the OpenAI door's <c>model</c>, the MCP tools): the routing file's model
/// map, its intent routers (a router classifies each request to a capability), and every capability a live agent
/// serves, under its own name. A name in the map wins over a router or a capability of the same name. Read from the
/// rules in force and the live registry on each call.
/// </summary>
internal sealed class ModelCatalog(RoutingRulesStore rules, AgentRegistry registry)
{
    /// <summary>
    /// What <paramref name="model"/> routes to: the model map's entry, else the intent router of that name, else the
    /// capability of that name when a live agent serves it. False for any other name.
    /// </summary>
    public bool TryResolve(string? model, out ModelRoute route)
    {
        var current = rules.Current;
        if (model is not null && current.Models.TryGetValue(model, out route!))
        {
            return true;
        }

        if (model is not null && current.Routers.ContainsKey(model))
        {
            route = new ModelRoute(model, null, null); // the dispatcher classifies each request
            return true;
        }

        if (model is not null && Names.IsValid(model) && registry.GetPool(model) is { Agents.Length: > 0 })
        {
            route = new ModelRoute(model, null, null);
            return true;
        }

        route = null!;
        return false;
    }

    /// <summary>
    /// Every model: the map's, by name; then the intent routers the map does not name (with the live agents of every
    /// capability they route to); then each capability with live agents that neither names, by name.
    /// </summary>
    public IReadOnlyList<ModelInfo> List()
    {
        var current = rules.Current;
        var models = current.Models;
        var list = new List<ModelInfo>(models.Count);
        foreach (var (name, route) in models.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            list.Add(new ModelInfo(name, route.Capability, Mapped: true, AgentsServing(route.Capability)));
        }

        foreach (var (name, router) in current.Routers.Where(r => !models.ContainsKey(r.Key)).OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            var agents = router.Rules.Select(r => r.Capability).Append(router.DefaultCapability)
                .SelectMany(c => registry.GetPool(c)?.Agents ?? []).Select(a => a.AgentId).Distinct(StringComparer.Ordinal).Count();
            list.Add(new ModelInfo(name, name, Mapped: false, agents));
        }

        foreach (var pool in registry.Pools.Where(p => p.Agents.Length > 0 && !models.ContainsKey(p.Method) && !current.Routers.ContainsKey(p.Method))
            .OrderBy(p => p.Method, StringComparer.Ordinal))
        {
            list.Add(new ModelInfo(pool.Method, pool.Method, Mapped: false, pool.Agents.Length));
        }

        return list;
    }

    /// <summary>A task for <paramref name="route"/>: its capability, strategy and fallbacks, with the caller's payload.</summary>
    public static TaskRequest Request(ModelRoute route, TaskPayload? payload, int? timeoutMs = null) => new()
    {
        Method = route.Capability, Strategy = route.Strategy, Fallbacks = route.Fallbacks is { } f ? [.. f] : null, Payload = payload, TimeoutMs = timeoutMs,
    };

    private int AgentsServing(string capability) => registry.GetPool(capability)?.Agents.Length ?? 0;
}

/// <summary>One model the doors offer: its name, the capability it runs on, whether the model map names it, and the live agents serving it.</summary>
internal sealed record ModelInfo(string Id, string Capability, bool Mapped, int Agents);
