using Aicp.Agent.Sdk.Connection;

namespace Aicp.Agent.Sdk.Agent;

/// <summary>An agent's identity, capacity and connection settings.</summary>
public sealed class AgentOptions : AicpConnectionOptions
{
    /// <summary>The configuration section <c>services.AddAicpAgent(configuration)</c> binds.</summary>
    public const string SectionName = "AicpAgent";

    /// <summary>Unique among live agents; grammar <c>^[a-z0-9][a-z0-9._-]{0,127}$</c>.</summary>
    public string AgentId { get; set; } = "";

    /// <summary>Most handlers running at once; the hub never sends more. The default value is 4.</summary>
    public int MaxConcurrency { get; set; } = 4;

    /// <summary>Descriptive key/value pairs sent with the registration.</summary>
    public Dictionary<string, string> Metadata { get; set; } = [];

    /// <summary>How long a graceful stop waits for in-flight handlers. The default value is 30 s.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
