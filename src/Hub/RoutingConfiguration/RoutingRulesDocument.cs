namespace Aicp.Hub.RoutingConfiguration;

// The shape of the routing configuration file (deploy/routing.yaml), as YamlDotNet reads it: camelCase keys, and a key
// these classes do not have is an error (with its line), so a typo is not silently ignored. Nothing here is validated;
// RoutingRulesReader turns a document into RoutingRules or a list of every problem.

/// <summary>The whole file.</summary>
internal sealed class RoutingRulesDocument
{
    /// <summary>Per-capability defaults, by capability name.</summary>
    public Dictionary<string, CapabilityDocument>? Capabilities { get; set; }

    /// <summary>Model names clients may ask for (the OpenAI door's <c>model</c>), by name.</summary>
    public Dictionary<string, ModelDocument>? Models { get; set; }

    /// <summary>Router methods (e.g. <c>auto</c>) whose tasks are classified to a capability, by method name.</summary>
    public Dictionary<string, RouterDocument>? Routers { get; set; }
}

/// <summary>Defaults for tasks of one capability that do not set their own.</summary>
internal sealed class CapabilityDocument
{
    public string? Strategy { get; set; }

    public int? TimeoutMs { get; set; }

    public int? MaxAttempts { get; set; }

    public List<string>? Fallbacks { get; set; }
}

/// <summary>What one model name routes to.</summary>
internal sealed class ModelDocument
{
    public string? Capability { get; set; }

    public string? Strategy { get; set; }

    public List<string>? Fallbacks { get; set; }
}

/// <summary>A router method: the payload field it reads, its ordered rules, and the capability when none matches.</summary>
internal sealed class RouterDocument
{
    public string? Field { get; set; }

    public List<RuleDocument>? Rules { get; set; }

    public string? Default { get; set; }
}

/// <summary>One rule: keywords or a pattern, and the capability a match routes to.</summary>
internal sealed class RuleDocument
{
    public string? Name { get; set; }

    public List<string>? Keywords { get; set; }

    public string? Pattern { get; set; }

    public string? Capability { get; set; }
}
