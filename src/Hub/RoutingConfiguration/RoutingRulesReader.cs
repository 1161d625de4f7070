using System.Collections.Frozen;
using Aicp.Hub.Routing;
using Aicp.Protocol;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Aicp.Hub.RoutingConfiguration;

/// <summary>
/// Reads a routing configuration file (YAML, on YamlDotNet) into <see cref="RoutingRules"/>, or lists every problem in
/// it at once: capability names that do not follow the grammar, unknown strategies, values out of range, fallback
/// chains that loop or grow past <see cref="ProtocolDefaults.MaxFallbacks"/>, models without a capability, router
/// rules without a name, a capability or one test, patterns .NET's non-backtracking engine refuses. A file that
/// does not parse (a syntax error, a key the format does not have, a key given twice, a value of the wrong type) is one
/// problem, with its line and column. YamlDotNet does the parsing and binding; what it cannot know (the hub's names,
/// strategies and ranges) is checked here.
/// </summary>
internal static class RoutingRulesReader
{
    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .WithDuplicateKeyChecking()
        .Build();

    /// <summary>Reads <paramref name="path"/>; the rules, or null and the problems (each starting with the path).</summary>
    public static RoutingRules? ReadFile(string path, RoutingStrategyCatalog strategies, out IReadOnlyList<string> errors)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            errors = [$"{path}: cannot be read: {ex.Message}"];
            return null;
        }

        return Read(text, path, strategies, out errors);
    }

    /// <summary>Reads YAML text; <paramref name="source"/> names it in the rules and at the start of each problem.</summary>
    public static RoutingRules? Read(string text, string source, RoutingStrategyCatalog strategies, out IReadOnlyList<string> errors)
    {
        RoutingRulesDocument document;
        try
        {
            document = Yaml.Deserialize<RoutingRulesDocument?>(text) ?? new RoutingRulesDocument();
        }
        catch (YamlException ex)
        {
            var message = ex.InnerException is { } inner and not YamlException ? $"{ex.Message} {inner.Message}" : ex.Message;
            errors = [$"{source}: line {ex.Start.Line}, column {ex.Start.Column}: {message}"];
            return null;
        }

        var problems = new List<string>();
        var capabilities = ReadCapabilities(document, strategies, problems);
        var fallbacks = ReadFallbackChains(document, problems);
        var models = ReadModels(document, strategies, problems);
        var routers = ReadRouters(document, problems);
        errors = [.. problems.Select(p => $"{source}: {p}")];
        return problems.Count == 0 ? new RoutingRules(capabilities, fallbacks, models, routers, source) : null;
    }

    private static FrozenDictionary<string, CapabilityRule> ReadCapabilities(RoutingRulesDocument document, RoutingStrategyCatalog strategies, List<string> problems)
    {
        var rules = new Dictionary<string, CapabilityRule>(StringComparer.Ordinal);
        foreach (var (name, capability) in document.Capabilities ?? [])
        {
            var at = $"capabilities.{name}";
            if (!Names.IsValid(name))
            {
                problems.Add($"{at}: '{name}' is not a valid capability name (^[a-z0-9][a-z0-9._-]{{0,127}}$).");
            }

            var entry = capability ?? new CapabilityDocument();
            IRoutingStrategy? strategy = null;
            if (entry.Strategy is not null && !strategies.TryGet(entry.Strategy, out strategy))
            {
                problems.Add($"{at}.strategy '{entry.Strategy}' is not a known strategy; known: {string.Join(", ", strategies.Names)}.");
            }

            if (entry.TimeoutMs is < ProtocolDefaults.MinTimeoutMs or > ProtocolDefaults.MaxTimeoutMs)
            {
                problems.Add($"{at}.timeoutMs must be within {ProtocolDefaults.MinTimeoutMs}..{ProtocolDefaults.MaxTimeoutMs}; got {entry.TimeoutMs}.");
            }

            if (entry.MaxAttempts is < 1 or > ProtocolDefaults.MaxAttemptsLimit)
            {
                problems.Add($"{at}.maxAttempts must be within 1..{ProtocolDefaults.MaxAttemptsLimit}; got {entry.MaxAttempts}.");
            }

            CheckFallbacks(entry.Fallbacks, name, $"{at}.fallbacks", problems);
            rules[name] = new CapabilityRule(strategy?.Name, entry.TimeoutMs, entry.MaxAttempts); // the strategy as the hub spells it
        }

        return rules.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>
    /// Expands each capability's fallbacks into its whole chain (depth first: a fallback, then that capability's own
    /// chain), refusing a loop (a capability that falls back, directly or not, to itself) and a chain longer than
    /// <see cref="ProtocolDefaults.MaxFallbacks"/>.
    /// </summary>
    private static FrozenDictionary<string, string[]> ReadFallbackChains(RoutingRulesDocument document, List<string> problems)
    {
        var direct = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (name, capability) in document.Capabilities ?? [])
        {
            if (capability?.Fallbacks is { Count: > 0 } list)
            {
                direct[name] = list;
            }
        }

        var chains = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var name in direct.Keys)
        {
            var chain = new List<string>();
            var path = new List<string> { name };
            if (Expand(name, direct, chain, path, problems) && chain.Count > ProtocolDefaults.MaxFallbacks)
            {
                problems.Add($"capabilities.{name}.fallbacks: the whole chain ({string.Join(" -> ", chain)}) has {chain.Count} capabilities; at most {ProtocolDefaults.MaxFallbacks}.");
            }

            chains[name] = [.. chain];
        }

        return chains.ToFrozenDictionary(StringComparer.Ordinal);
    }

    // False when a loop was found (reported once, from the capability where the walk started).
    private static bool Expand(string name, Dictionary<string, List<string>> direct, List<string> chain, List<string> path, List<string> problems)
    {
        foreach (var next in direct.GetValueOrDefault(name) ?? [])
        {
            if (next == name)
            {
                continue; // falls back to itself: listed by CheckFallbacks
            }

            if (path.Contains(next, StringComparer.Ordinal))
            {
                problems.Add($"capabilities.{path[0]}.fallbacks: {string.Join(" -> ", path)} -> {next} is a loop.");
                return false;
            }

            if (chain.Contains(next, StringComparer.Ordinal))
            {
                continue; // reached already by another branch
            }

            chain.Add(next);
            path.Add(next);
            var ok = Expand(next, direct, chain, path, problems);
            path.RemoveAt(path.Count - 1);
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static FrozenDictionary<string, ModelRoute> ReadModels(RoutingRulesDocument document, RoutingStrategyCatalog strategies, List<string> problems)
    {
        var models = new Dictionary<string, ModelRoute>(StringComparer.Ordinal);
        foreach (var (name, model) in document.Models ?? [])
        {
            var at = $"models.{name}";
            if (!IsValidModelName(name))
            {
                problems.Add($"{at}: '{name}' is not a valid model name (1..{MaxModelNameLength} characters, no spaces or control characters).");
            }

            var entry = model ?? new ModelDocument();
            if (entry.Capability is null || !Names.IsValid(entry.Capability))
            {
                problems.Add($"{at}.capability: a capability name (^[a-z0-9][a-z0-9._-]{{0,127}}$) is required; got '{entry.Capability}'.");
            }

            IRoutingStrategy? strategy = null;
            if (entry.Strategy is not null && !strategies.TryGet(entry.Strategy, out strategy))
            {
                problems.Add($"{at}.strategy '{entry.Strategy}' is not a known strategy; known: {string.Join(", ", strategies.Names)}.");
            }

            CheckFallbacks(entry.Fallbacks, entry.Capability, $"{at}.fallbacks", problems);
            models[name] = new ModelRoute(entry.Capability ?? "", strategy?.Name, entry.Fallbacks is { Count: > 0 } f ? [.. f] : null);
        }

        return models.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Most rules one router may have: 64.</summary>
    public const int MaxRouterRules = 64;

    private static FrozenDictionary<string, IntentRouter> ReadRouters(RoutingRulesDocument document, List<string> problems)
    {
        var routers = new Dictionary<string, IntentRouter>(StringComparer.Ordinal);
        foreach (var (name, router) in document.Routers ?? [])
        {
            var at = $"routers.{name}";
            if (!Names.IsValid(name))
            {
                problems.Add($"{at}: '{name}' is not a valid method name (^[a-z0-9][a-z0-9._-]{{0,127}}$).");
            }

            if (document.Capabilities?.ContainsKey(name) == true)
            {
                problems.Add($"{at}: '{name}' is also under capabilities; a router method is not a capability.");
            }

            var entry = router ?? new RouterDocument();
            var field = entry.Field?.Split('.') ?? [];
            if (field.Length == 0 || field.Any(string.IsNullOrEmpty))
            {
                problems.Add($"{at}.field: the payload field the rules read is required, as a dotted path (e.g. prompt, or messages.-1.content); got '{entry.Field}'.");
            }

            CheckTarget(entry.Default, $"{at}.default", document, problems);
            var rules = new List<IntentRule>();
            if (entry.Rules is not { Count: > 0 and <= MaxRouterRules })
            {
                problems.Add($"{at}.rules: 1..{MaxRouterRules} rules are required; got {entry.Rules?.Count ?? 0}.");
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < (entry.Rules?.Count ?? 0); i++)
            {
                var rule = entry.Rules![i] ?? new RuleDocument();
                var ruleAt = $"{at}.rules[{i}]";
                if (!Names.IsValid(rule.Name) || rule.Name == IntentRouter.DefaultRule)
                {
                    problems.Add($"{ruleAt}.name: a rule name (^[a-z0-9][a-z0-9._-]{{0,127}}$, not '{IntentRouter.DefaultRule}') is required; got '{rule.Name}'.");
                }
                else if (!names.Add(rule.Name))
                {
                    problems.Add($"{ruleAt}.name: '{rule.Name}' is the name of an earlier rule.");
                }

                CheckTarget(rule.Capability, $"{ruleAt}.capability", document, problems);
                var keywords = rule.Keywords?.Where(k => !string.IsNullOrWhiteSpace(k)).ToArray();
                if (rule.Keywords is not null && keywords!.Length != rule.Keywords.Count)
                {
                    problems.Add($"{ruleAt}.keywords: a keyword is empty.");
                }

                System.Text.RegularExpressions.Regex? pattern = null;
                if (rule.Pattern is not null)
                {
                    pattern = IntentRule.Compile(rule.Pattern, out var problem);
                    if (problem is not null)
                    {
                        problems.Add($"{ruleAt}.pattern '{rule.Pattern}' is refused: {problem}");
                    }
                }

                if (rule.Keywords is null == rule.Pattern is null)
                {
                    problems.Add($"{ruleAt}: give either keywords or a pattern.");
                }

                rules.Add(new IntentRule(rule.Name ?? "", rule.Capability ?? "", keywords is { Length: > 0 } ? keywords : null, pattern));
            }

            routers[name] = new IntentRouter(name, field, rules, entry.Default ?? "");
        }

        return routers.ToFrozenDictionary(StringComparer.Ordinal);
    }

    // A router's target: a capability, not itself a router (routers do not chain).
    private static void CheckTarget(string? capability, string at, RoutingRulesDocument document, List<string> problems)
    {
        if (!Names.IsValid(capability))
        {
            problems.Add($"{at}: a capability name (^[a-z0-9][a-z0-9._-]{{0,127}}$) is required; got '{capability}'.");
        }
        else if (document.Routers?.ContainsKey(capability) == true)
        {
            problems.Add($"{at}: '{capability}' is a router; a router routes to capabilities only.");
        }
    }

    /// <summary>Longest model name: 128 characters.</summary>
    public const int MaxModelNameLength = 128;

    /// <summary>A model name: 1..128 characters, none of them white space or a control character.</summary>
    public static bool IsValidModelName(string? name) =>
        name is { Length: > 0 and <= MaxModelNameLength } && !name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c));

    /// <summary>
    /// The problem with a list of fallbacks for <paramref name="owner"/>, or null: at most
    /// <see cref="ProtocolDefaults.MaxFallbacks"/> distinct capability names, the owner not among them. Shared by the
    /// routing file and the dispatcher's check of a request's <c>fallbacks</c>.
    /// </summary>
    public static string? FallbacksProblem(IReadOnlyCollection<string> fallbacks, string? owner)
    {
        if (fallbacks.Count > ProtocolDefaults.MaxFallbacks)
        {
            return $"at most {ProtocolDefaults.MaxFallbacks} capabilities; got {fallbacks.Count}.";
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in fallbacks)
        {
            if (!Names.IsValid(name))
            {
                return $"'{Truncate(name)}' is not a valid capability name (^[a-z0-9][a-z0-9._-]{{0,127}}$).";
            }

            if (name == owner)
            {
                return $"'{name}' falls back to itself.";
            }

            if (!seen.Add(name))
            {
                return $"'{name}' is listed twice.";
            }
        }

        return null;
    }

    private static void CheckFallbacks(List<string>? fallbacks, string? owner, string at, List<string> problems)
    {
        if (fallbacks is not null && FallbacksProblem(fallbacks, owner) is { } problem)
        {
            problems.Add($"{at}: {problem}");
        }
    }

    private static string Truncate(string? value) => value is null ? "" : value.Length <= 64 ? value : value[..64] + "...";
}
