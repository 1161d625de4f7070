using Aicp.Agent.Sdk.Connection;
using Aicp.Agent.Sdk.Telemetry;
using Aicp.Protocol;

namespace Aicp.Agent.Sdk.Agent;

/// <summary>An agent's identity, capacity and connection settings.</summary>
public sealed class AgentOptions : AicpConnectionOptions
{
    /// <summary>Unique among live agents; grammar <c>^[a-z0-9][a-z0-9._-]{0,127}$</c>. Required.</summary>
    public string AgentId { get; set; } = "";

    /// <summary>Most handlers running at once; the hub never sends more. The default value is 4.</summary>
    public int MaxConcurrency { get; set; } = 4;

    /// <summary>Descriptive key/value pairs sent with the registration.</summary>
    public Dictionary<string, string> Metadata { get; set; } = [];

    /// <summary>How often the agent sends its own load (queue depth, free slots, GPU readings) to the hub.
    /// The default value is 5 s; <see cref="TimeSpan.Zero"/> turns periodic reports off.</summary>
    public TimeSpan LoadReportInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>GPU readings for the registration metadata and load reports; none when null (the default).
    /// The agent disposes it, when it is disposable, as the agent is disposed.</summary>
    public IGpuTelemetrySource? GpuTelemetry { get; set; }

    /// <summary>Adjusts each load report before it is sent, e.g. to add a model server's own queue depth.</summary>
    public Func<AgentLoadReport, AgentLoadReport>? LoadReportFilter { get; set; }

    /// <summary>How long a graceful stop waits for in-flight handlers. The default value is 30 s.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Every problem with these options, one line each; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!Names.IsValid(AgentId))
        {
            problems.Add($"AgentId '{AgentId}' does not match ^[a-z0-9][a-z0-9._-]{{0,127}}$.");
        }

        if (MaxConcurrency < 1)
        {
            problems.Add($"MaxConcurrency must be at least 1 (got {MaxConcurrency}).");
        }

        if (DrainTimeout < TimeSpan.Zero)
        {
            problems.Add("DrainTimeout must not be negative.");
        }

        if (LoadReportInterval < TimeSpan.Zero)
        {
            problems.Add("LoadReportInterval must not be negative.");
        }

        problems.AddRange(ValidateConnection());
        return problems;
    }
}
