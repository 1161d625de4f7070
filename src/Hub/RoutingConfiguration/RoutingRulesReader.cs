using System.Collections.Frozen;
using Aicp.Hub.Routing;
using Aicp.Protocol;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Aicp.Hub.RoutingConfiguration;

/// <summary>
/// Reads a routing configuration file (YAML, on YamlDotNet) into <see cref="RoutingRules"/>, or lists every problem in
/// it at once: capability names that do not follow the grammar, unknown strategies, values out of range. A file that
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
        errors = [.. problems.Select(p => $"{source}: {p}")];
        return problems.Count == 0 ? new RoutingRules(capabilities, source) : null;
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

            rules[name] = new CapabilityRule(strategy?.Name, entry.TimeoutMs, entry.MaxAttempts); // the strategy as the hub spells it
        }

        return rules.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
