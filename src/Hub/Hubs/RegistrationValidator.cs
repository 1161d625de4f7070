using Aicp.Protocol;

namespace Aicp.Hub.Hubs;

/// <summary>Checks a registration against the name grammar and limits; returns the first error found.</summary>
internal static class RegistrationValidator
{
    // Metadata is kept for the agent's lifetime and served by /v1/agents: bound what one agent can park there.
    public const int MaxMetadataEntries = 64;
    public const int MaxMetadataKeyLength = 128;
    public const int MaxMetadataValueLength = 1024;

    public static TaskError? Validate(AgentRegistration? registration, out IReadOnlyList<string> capabilities)
    {
        capabilities = [];
        if (registration is null)
        {
            return TaskError.Of(ErrorCodes.InvalidRequest, "A registration object is required.");
        }

        if (!Names.IsValid(registration.AgentId))
        {
            return TaskError.Of(ErrorCodes.InvalidAgentId, "Agent ids match ^[a-z0-9][a-z0-9._-]{0,127}$.");
        }

        if (registration.Capabilities is null || registration.Capabilities.Count == 0)
        {
            return TaskError.Of(ErrorCodes.InvalidRequest, "An agent registers at least one capability.");
        }

        if (registration.Capabilities.Count > ProtocolDefaults.MaxCapabilitiesPerAgent)
        {
            return TaskError.Of(ErrorCodes.TooManyCapabilities, $"An agent registers at most {ProtocolDefaults.MaxCapabilitiesPerAgent} capabilities.");
        }

        foreach (var capability in registration.Capabilities)
        {
            if (!Names.IsValid(capability))
            {
                return TaskError.Of(ErrorCodes.InvalidMethod, "Capability names match ^[a-z0-9][a-z0-9._-]{0,127}$.");
            }
        }

        if (registration.MaxConcurrency is < 1 or > ProtocolDefaults.MaxConcurrencyLimit)
        {
            return TaskError.Of(ErrorCodes.InvalidConcurrency, $"maxConcurrency must be within 1..{ProtocolDefaults.MaxConcurrencyLimit}.");
        }

        if (registration.Metadata is { } metadata && (metadata.Count > MaxMetadataEntries
            || metadata.Any(kv => kv.Key is null || kv.Key.Length > MaxMetadataKeyLength || kv.Value is null || kv.Value.Length > MaxMetadataValueLength)))
        {
            return TaskError.Of(ErrorCodes.InvalidRequest,
                $"metadata holds at most {MaxMetadataEntries} entries, keys up to {MaxMetadataKeyLength} and string values up to {MaxMetadataValueLength} characters.");
        }

        capabilities = [.. registration.Capabilities.Distinct(StringComparer.Ordinal)];
        return null;
    }
}
