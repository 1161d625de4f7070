using Aicp.Hub.Routing;
using Aicp.Hub.RoutingConfiguration;
using Aicp.Protocol;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Configuration;

/// <summary>Checks every setting at start-up, the routing file (<c>Aicp:RoutingFile</c>) included, and reports all problems together.</summary>
internal sealed class AicpHubOptionsValidator(RoutingStrategyCatalog strategies) : IValidateOptions<AicpHubOptions>
{
    public ValidateOptionsResult Validate(string? name, AicpHubOptions options)
    {
        var errors = new List<string>();
        if (!strategies.TryGet(options.DefaultStrategy, out _))
        {
            errors.Add($"Aicp:DefaultStrategy '{options.DefaultStrategy}' is not a known strategy; known: {string.Join(", ", strategies.Names)}.");
        }

        foreach (var (capability, strategy) in options.CapabilityStrategies ?? [])
        {
            if (!Names.IsValid(capability))
            {
                errors.Add($"Aicp:CapabilityStrategies: '{capability}' is not a valid capability name (^[a-z0-9][a-z0-9._-]{{0,127}}$).");
            }

            if (!strategies.TryGet(strategy, out _))
            {
                errors.Add($"Aicp:CapabilityStrategies:{capability} '{strategy}' is not a known strategy; known: {string.Join(", ", strategies.Names)}.");
            }
        }

        ValidateHealth(options.Health, errors);
        ValidateRetryBudget(options.RetryBudget, errors);
        ValidateHedging(options.Hedging, errors);
        ValidateStreaming(options.Streaming, errors);
        ValidateCluster(options.Cluster, errors);

        if (options.DefaultTimeoutMs is < ProtocolDefaults.MinTimeoutMs or > ProtocolDefaults.MaxTimeoutMs)
        {
            errors.Add($"Aicp:DefaultTimeoutMs must be within {ProtocolDefaults.MinTimeoutMs}..{ProtocolDefaults.MaxTimeoutMs}.");
        }

        if (options.DefaultMaxAttempts is < 1 or > ProtocolDefaults.MaxAttemptsLimit)
        {
            errors.Add($"Aicp:DefaultMaxAttempts must be within 1..{ProtocolDefaults.MaxAttemptsLimit}.");
        }

        if (options.MaxQueuedTasksPerCapability < 0)
        {
            errors.Add("Aicp:MaxQueuedTasksPerCapability must not be negative.");
        }

        if (options.MaxParallelInvocationsPerConnection < 1)
        {
            errors.Add("Aicp:MaxParallelInvocationsPerConnection must be at least 1.");
        }

        if (options.MaxMessageBytes < 1024)
        {
            errors.Add("Aicp:MaxMessageBytes must be at least 1024.");
        }

        // The routing file's problems are the configuration's: listed with the others, one line each.
        if (!string.IsNullOrEmpty(options.RoutingFile)
            && RoutingRulesReader.ReadFile(Path.GetFullPath(options.RoutingFile), strategies, out var routingErrors) is null)
        {
            errors.AddRange(routingErrors.Select(e => "Aicp:RoutingFile: " + e));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateRetryBudget(RetryBudgetOptions? budget, List<string> errors)
    {
        if (budget is null)
        {
            errors.Add("Aicp:RetryBudget must not be null.");
            return;
        }

        if (!(budget.Ratio >= 0))
        {
            errors.Add("Aicp:RetryBudget:Ratio must not be negative.");
        }

        if (!(budget.MinPerSecond >= 0))
        {
            errors.Add("Aicp:RetryBudget:MinPerSecond must not be negative.");
        }

        if (budget.Window < TimeSpan.FromSeconds(1))
        {
            errors.Add("Aicp:RetryBudget:Window must be at least 1 s.");
        }
    }

    private static void ValidateHedging(HedgingOptions? hedging, List<string> errors)
    {
        if (hedging is null)
        {
            errors.Add("Aicp:Hedging must not be null.");
            return;
        }

        foreach (var capability in hedging.Capabilities ?? [])
        {
            if (!Names.IsValid(capability))
            {
                errors.Add($"Aicp:Hedging:Capabilities: '{capability}' is not a valid capability name (^[a-z0-9][a-z0-9._-]{{0,127}}$).");
            }
        }

        if (hedging.Delay is { } delay && delay <= TimeSpan.Zero)
        {
            errors.Add("Aicp:Hedging:Delay must be positive when set.");
        }

        if (!(hedging.Percentile is > 0 and < 1))
        {
            errors.Add("Aicp:Hedging:Percentile must be within (0, 1).");
        }

        if (!(hedging.BudgetRatio is >= 0 and <= 1))
        {
            errors.Add("Aicp:Hedging:BudgetRatio must be within [0, 1].");
        }
    }

    private static void ValidateCluster(ClusterOptions? cluster, List<string> errors)
    {
        if (cluster is null)
        {
            errors.Add("Aicp:Cluster must not be null.");
            return;
        }

        if (cluster.NodeId is not null && !Names.IsValid(cluster.NodeId))
        {
            errors.Add($"Aicp:Cluster:NodeId '{cluster.NodeId}' is not a valid node name (^[a-z0-9][a-z0-9._-]{{0,127}}$).");
        }

        if (cluster.HeartbeatInterval <= TimeSpan.Zero)
        {
            errors.Add("Aicp:Cluster:HeartbeatInterval must be positive.");
        }
        else if (cluster.NodeTtl < 2 * cluster.HeartbeatInterval)
        {
            errors.Add("Aicp:Cluster:NodeTtl must be at least twice Aicp:Cluster:HeartbeatInterval.");
        }

        if (!double.IsFinite(cluster.HopCostMs) || cluster.HopCostMs < 0)
        {
            errors.Add("Aicp:Cluster:HopCostMs must be a finite number of milliseconds, 0 or more.");
        }

        if (!Names.IsValid(cluster.KeyPrefix))
        {
            errors.Add($"Aicp:Cluster:KeyPrefix '{cluster.KeyPrefix}' is not a valid prefix (^[a-z0-9][a-z0-9._-]{{0,127}}$).");
        }
    }

    private static void ValidateStreaming(StreamingOptions? streaming, List<string> errors)
    {
        if (streaming is null)
        {
            errors.Add("Aicp:Streaming must not be null.");
            return;
        }

        if (streaming.MaxBufferedChunks is < 1 or > 100_000)
        {
            errors.Add("Aicp:Streaming:MaxBufferedChunks must be within 1..100000.");
        }

        if (streaming.MaxChunkBytes < 16)
        {
            errors.Add("Aicp:Streaming:MaxChunkBytes must be at least 16.");
        }

        if (streaming.StallTimeout <= TimeSpan.Zero)
        {
            errors.Add("Aicp:Streaming:StallTimeout must be positive.");
        }
    }

    private static void ValidateHealth(AgentHealthOptions? health, List<string> errors)
    {
        if (health is null)
        {
            errors.Add("Aicp:Health must not be null.");
            return;
        }

        if (health.LatencyDecay <= TimeSpan.Zero)
        {
            errors.Add("Aicp:Health:LatencyDecay must be positive.");
        }

        if (!(health.DefaultLatencyMs > 0))
        {
            errors.Add("Aicp:Health:DefaultLatencyMs must be positive.");
        }

        if (health.SlowStartWindow < TimeSpan.Zero)
        {
            errors.Add("Aicp:Health:SlowStartWindow must not be negative.");
        }

        if (!(health.SlowStartFloor is > 0 and <= 1))
        {
            errors.Add("Aicp:Health:SlowStartFloor must be within (0, 1].");
        }

        if (health.ConsecutiveFailures < 1)
        {
            errors.Add("Aicp:Health:ConsecutiveFailures must be at least 1.");
        }

        if (!(health.FailureRatio is > 0 and <= 1))
        {
            errors.Add("Aicp:Health:FailureRatio must be within (0, 1].");
        }

        if (health.MinimumThroughput < 1)
        {
            errors.Add("Aicp:Health:MinimumThroughput must be at least 1.");
        }

        if (health.SamplingDuration <= TimeSpan.Zero)
        {
            errors.Add("Aicp:Health:SamplingDuration must be positive.");
        }

        if (health.BreakDuration < TimeSpan.Zero)
        {
            errors.Add("Aicp:Health:BreakDuration must not be negative.");
        }

        if (health.MaxBreakDuration < health.BreakDuration)
        {
            errors.Add("Aicp:Health:MaxBreakDuration must not be shorter than BreakDuration.");
        }
    }
}
