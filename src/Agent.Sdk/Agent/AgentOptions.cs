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

    /// <summary>How often the agent sends its own load (queue depth, free slots, GPU readings) to the hub.
    /// The default value is 5 s; <see cref="TimeSpan.Zero"/> turns periodic reports off.</summary>
    public TimeSpan LoadReportInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Read GPUs through NVML (when the NVIDIA driver is present) for registration metadata and load reports. The default value is true.</summary>
    public bool ReportGpuTelemetry { get; set; } = true;

    /// <summary>Adjusts each load report before it is sent, e.g. to add a model server's own queue depth.</summary>
    public Func<Aicp.Protocol.AgentLoadReport, Aicp.Protocol.AgentLoadReport>? LoadReportFilter { get; set; }

    /// <summary>How long a graceful stop waits for in-flight handlers. The default value is 30 s.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
