using Aicp.Protocol;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Observability;

/// <summary>Checks the observability settings at start-up and reports all problems together.</summary>
internal sealed class ObservabilityOptionsValidator : IValidateOptions<ObservabilityOptions>
{
    public ValidateOptionsResult Validate(string? name, ObservabilityOptions options)
    {
        var errors = new List<string>();
        if (options.LogFormat is not null && !LogFormats.IsKnown(options.LogFormat))
        {
            errors.Add($"Aicp:LogFormat '{options.LogFormat}' is not known; use 'simple' or 'json'.");
        }

        foreach (var capability in options.ExpectedCapabilities)
        {
            if (!Names.IsValid(capability))
            {
                errors.Add($"Aicp:ExpectedCapabilities entry '{capability}' is not a valid method name.");
            }
        }

        if (options.CapacityWindowSeconds is < 1 or > 3600)
        {
            errors.Add("Aicp:CapacityWindowSeconds must be within 1..3600.");
        }

        if (options.CapacityTargetUtilization is <= 0 or > 1 || double.IsNaN(options.CapacityTargetUtilization))
        {
            errors.Add("Aicp:CapacityTargetUtilization must be within (0, 1].");
        }

        if (options.RouteLogCapacity is < 1 or > 100_000)
        {
            errors.Add("Aicp:RouteLogCapacity must be within 1..100000.");
        }

        if (options.MaxCapabilityLabels is < 1 or > 100_000)
        {
            errors.Add("Aicp:MaxCapabilityLabels must be within 1..100000.");
        }

        if (options.Otlp.Endpoint is { Length: > 0 } endpoint && !OtlpExport.IsValidEndpoint(endpoint))
        {
            errors.Add($"Aicp:Otlp:Endpoint '{endpoint}' must be an absolute http or https URL.");
        }

        if (!OtlpExport.IsKnownProtocol(options.Otlp.Protocol))
        {
            errors.Add($"Aicp:Otlp:Protocol '{options.Otlp.Protocol}' is not known; use 'grpc' or 'http/protobuf'.");
        }

        if (options.Otlp.MetricExportIntervalMs < 100)
        {
            errors.Add("Aicp:Otlp:MetricExportIntervalMs must be at least 100.");
        }

        if (options.Dashboard.PushIntervalMs is < 100 or > 60_000)
        {
            errors.Add("Aicp:Dashboard:PushIntervalMs must be within 100..60000.");
        }

        if (options.Dashboard.MaxSubscribers is < 1 or > 1_000)
        {
            errors.Add("Aicp:Dashboard:MaxSubscribers must be within 1..1000.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Console log formats selectable with <c>Aicp:LogFormat</c>.</summary>
internal static class LogFormats
{
    public const string Simple = "simple";
    public const string Json = "json";

    public static bool IsKnown(string value) =>
        string.Equals(value, Simple, StringComparison.OrdinalIgnoreCase) || string.Equals(value, Json, StringComparison.OrdinalIgnoreCase);
}
