using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Observability;

/// <summary>Wires metrics (prometheus-net), tracing, status queries, health checks, log format and OTLP export.</summary>
internal static class ObservabilityServiceCollectionExtensions
{
    private const string LogFormatKey = Configuration.AicpHubOptions.SectionName + ":" + nameof(ObservabilityOptions.LogFormat);

    public static IServiceCollection AddAicpObservability(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ObservabilityOptions>().Bind(configuration.GetSection(Configuration.AicpHubOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ObservabilityOptions>, ObservabilityOptionsValidator>());

        services.AddMetrics();
        services.TryAddSingleton<MetricLabels>();
        services.TryAddSingleton<HubMetrics>();
        services.TryAddSingleton<HubCounters>();
        services.TryAddSingleton<RouteLog>();
        services.TryAddSingleton<CapacityPlanner>();
        services.TryAddSingleton<TaskTelemetry>();
        services.TryAddSingleton<StatusQueries>();

        services.AddHealthChecks()
            .AddCheck<LivenessHealthCheck>(LivenessHealthCheck.Name, tags: [StatusEndpoints.LiveTag])
            .AddCheck<ReadinessHealthCheck>(ReadinessHealthCheck.Name, tags: [StatusEndpoints.ReadyTag])
            .AddCheck<Cluster.ClusterHealthCheck>(Cluster.ClusterHealthCheck.Name, tags: [StatusEndpoints.ReadyTag]);

        // Aicp:LogFormat=json switches the host's console logger to the JSON formatter (the same as
        // Logging:Console:FormatterName=json, which also works on its own). Read when the logger is built, so
        // configuration added after AddAicpHub (tests, embedding hosts) counts too.
        services.AddOptions<ConsoleLoggerOptions>().Configure<IConfiguration>((console, config) =>
        {
            if (string.Equals(config[LogFormatKey], LogFormats.Json, StringComparison.OrdinalIgnoreCase))
            {
                console.FormatterName = ConsoleFormatterNames.Json;
            }
        });

        return services;
    }

    /// <summary>
    /// Adds OTLP export of traces and metrics when <c>Aicp:Otlp:Endpoint</c> is set (<see cref="OtlpExport"/>).
    /// Decided from the configuration as it stands now: call it once every configuration source is in
    /// (<see cref="Hosting.AicpHubApplication"/> does, just before it builds the host).
    /// </summary>
    public static IServiceCollection AddAicpOtlpExport(this IServiceCollection services, IConfiguration configuration)
    {
        OtlpOptions? otlp;
        try
        {
            otlp = configuration.GetSection(Configuration.AicpHubOptions.SectionName).GetSection(nameof(ObservabilityOptions.Otlp)).Get<OtlpOptions>();
        }
        catch (InvalidOperationException)
        {
            otlp = null; // a value that does not convert: the configuration check reports it, and the hub does not start
        }

        OtlpExport.Register(services, otlp ?? new OtlpOptions());
        return services;
    }
}
