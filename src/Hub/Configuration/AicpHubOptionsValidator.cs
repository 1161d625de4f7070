using Aicp.Hub.Routing;
using Aicp.Protocol;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Configuration;

/// <summary>Checks every setting at start-up and reports all problems together.</summary>
internal sealed class AicpHubOptionsValidator(RoutingStrategyCatalog strategies) : IValidateOptions<AicpHubOptions>
{
    public ValidateOptionsResult Validate(string? name, AicpHubOptions options)
    {
        var errors = new List<string>();
        if (!strategies.TryGet(options.DefaultStrategy, out _))
        {
            errors.Add($"Aicp:DefaultStrategy '{options.DefaultStrategy}' is not a known strategy; known: {string.Join(", ", strategies.Names)}.");
        }

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

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
