using System.Collections.Frozen;
using Aicp.Hub.Configuration;

namespace Aicp.Hub.RoutingConfiguration;

/// <summary>
/// The routing configuration in force: per-capability defaults for tasks that do not set their own, fallback chains,
/// the model map and the intent routers. Validated and immutable; the <see cref="RoutingRulesStore"/> swaps a whole new one in when the
/// file changes, so a task reads one consistent set.
/// </summary>
internal sealed class RoutingRules(FrozenDictionary<string, CapabilityRule> capabilities, FrozenDictionary<string, string[]> fallbacks,
    FrozenDictionary<string, ModelRoute> models, FrozenDictionary<string, IntentRouter> routers, string? source)
{
    /// <summary>No routing file: every capability on the hub's defaults.</summary>
    public static RoutingRules Empty { get; } = new(FrozenDictionary<string, CapabilityRule>.Empty, FrozenDictionary<string, string[]>.Empty,
        FrozenDictionary<string, ModelRoute>.Empty, FrozenDictionary<string, IntentRouter>.Empty, null);

    /// <summary>Per-capability defaults, by capability.</summary>
    public FrozenDictionary<string, CapabilityRule> Capabilities { get; } = capabilities;

    /// <summary>
    /// Each capability's whole fallback chain, by capability: its own fallbacks in order, each followed by that
    /// capability's chain (a capability already in the chain is not repeated). Only capabilities that have one.
    /// </summary>
    public FrozenDictionary<string, string[]> Fallbacks { get; } = fallbacks;

    /// <summary>The model map: what a model name a client asks for routes to, by model name.</summary>
    public FrozenDictionary<string, ModelRoute> Models { get; } = models;

    /// <summary>Router methods whose tasks are classified to a capability by their rules, by method name.</summary>
    public FrozenDictionary<string, IntentRouter> Routers { get; } = routers;

    /// <summary>The file the rules came from; null for <see cref="Empty"/>.</summary>
    public string? Source { get; } = source;

    /// <summary>The strategy for a task of <paramref name="method"/> that names none: the file's, else <c>Aicp:CapabilityStrategies</c>, else the hub default.</summary>
    public string StrategyFor(string method, AicpHubOptions options) =>
        Capabilities.TryGetValue(method, out var rule) && rule.Strategy is { } strategy ? strategy : options.StrategyFor(method);

    /// <summary>The per-attempt timeout for a task of <paramref name="method"/> that sets none: the file's, else <c>Aicp:DefaultTimeoutMs</c>.</summary>
    public int TimeoutMsFor(string method, AicpHubOptions options) =>
        Capabilities.TryGetValue(method, out var rule) && rule.TimeoutMs is { } timeout ? timeout : options.DefaultTimeoutMs;

    /// <summary>The attempts for a task of <paramref name="method"/> that sets none: the file's, else <c>Aicp:DefaultMaxAttempts</c>.</summary>
    public int MaxAttemptsFor(string method, AicpHubOptions options) =>
        Capabilities.TryGetValue(method, out var rule) && rule.MaxAttempts is { } attempts ? attempts : options.DefaultMaxAttempts;

    /// <summary>The capabilities tried after <paramref name="method"/>, in order; empty when it has no fallbacks.</summary>
    public IReadOnlyList<string> FallbacksFor(string method) => Fallbacks.GetValueOrDefault(method) ?? [];
}

/// <summary>Defaults for one capability's tasks; null fields fall back to the hub's.</summary>
internal sealed record CapabilityRule(string? Strategy, int? TimeoutMs, int? MaxAttempts);

/// <summary>
/// What a model name routes to: a capability, optionally with a strategy and the fallbacks to try after it (these
/// replace the capability's own chain, as a request's <c>fallbacks</c> do).
/// </summary>
internal sealed record ModelRoute(string Capability, string? Strategy, IReadOnlyList<string>? Fallbacks);
