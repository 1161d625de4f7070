using Aicp.Hub.Routing;
using Aicp.Protocol;

namespace Aicp.Hub.Configuration;

/// <summary>Hub settings, bound from the <c>Aicp</c> configuration section and validated at start-up.</summary>
public sealed class AicpHubOptions
{
    public const string SectionName = "Aicp";

    /// <summary>Strategy used when a task names none and its capability has no entry in <see cref="CapabilityStrategies"/>. The default value is <c>adaptive</c>.</summary>
    public string DefaultStrategy { get; set; } = RoutingStrategyNames.Adaptive;

    /// <summary>Per-capability default strategy, e.g. <c>Aicp:CapabilityStrategies:image.label = power-of-two</c>. Empty by default.</summary>
    public Dictionary<string, string> CapabilityStrategies { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Latency estimate, slow start and circuit breaker settings (<c>Aicp:Health</c>).</summary>
    public AgentHealthOptions Health { get; set; } = new();

    /// <summary>How many failovers a capability's tasks may make, as a share of its recent traffic (<c>Aicp:RetryBudget</c>).</summary>
    public RetryBudgetOptions RetryBudget { get; set; } = new();

    /// <summary>Hedged requests for idempotent capabilities (<c>Aicp:Hedging</c>); off unless capabilities are listed.</summary>
    public HedgingOptions Hedging { get; set; } = new();

    /// <summary>Streamed results: buffer bound, chunk size limit and stall timeout (<c>Aicp:Streaming</c>).</summary>
    public StreamingOptions Streaming { get; set; } = new();

    /// <summary>Several hub nodes on Redis (<c>Aicp:Cluster</c>); off unless <c>Aicp:Cluster:Redis</c> is set.</summary>
    public ClusterOptions Cluster { get; set; } = new();

    /// <summary>Per-attempt timeout when a request sets none. The default value is 30,000 ms.</summary>
    public int DefaultTimeoutMs { get; set; } = ProtocolDefaults.TimeoutMs;

    /// <summary>Attempts per task when a request sets none. The default value is 3.</summary>
    public int DefaultMaxAttempts { get; set; } = ProtocolDefaults.MaxAttempts;

    /// <summary>Most tasks waiting for a free agent slot, per capability. The default value is 10,000.</summary>
    public int MaxQueuedTasksPerCapability { get; set; } = 10_000;

    /// <summary>Hub invocations one connection may have running at once (concurrent Submits). The default value is 1,024.</summary>
    public int MaxParallelInvocationsPerConnection { get; set; } = 1_024;

    /// <summary>Largest incoming frame in bytes. The default value is 1 MiB + 64 KiB of envelope.</summary>
    public long MaxMessageBytes { get; set; } = (1 << 20) + (64 << 10);

    /// <summary>
    /// The routing configuration file (YAML; docs/ROUTING.md): per-capability strategy, timeout and attempts. Relative
    /// paths are taken from the working directory. Checked at start-up with the other settings, read again whenever it
    /// changes. None by default.
    /// </summary>
    public string? RoutingFile { get; set; }

    /// <summary>Seed for the routing random source; null seeds from the clock.</summary>
    public int? RandomSeed { get; set; }

    /// <summary>The strategy a task gets when it names none: its capability's, else the hub default.</summary>
    internal string StrategyFor(string method) =>
        CapabilityStrategies.TryGetValue(method, out var name) ? name : DefaultStrategy;
}
