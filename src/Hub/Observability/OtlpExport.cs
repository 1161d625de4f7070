using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Aicp.Hub.Observability;

/// <summary>
/// OTLP export of the hub's traces (<see cref="HubTracing.SourceName"/>) and metrics (<see cref="HubMetrics.MeterName"/>)
/// when <c>Aicp:Otlp:Endpoint</c> is set; nothing otherwise. OpenTelemetry.Extensions.Hosting owns the providers:
/// the host starts them and disposes (flushes) them when it stops. This hosted service only logs that export is on.
/// </summary>
internal sealed class OtlpExport(IOptions<ObservabilityOptions> options, ILogger<OtlpExport> logger) : IHostedService
{
    public const string Grpc = "grpc";
    public const string HttpProtobuf = "http/protobuf";

    public static bool IsKnownProtocol(string? protocol) =>
        string.Equals(protocol, Grpc, StringComparison.OrdinalIgnoreCase) || string.Equals(protocol, HttpProtobuf, StringComparison.OrdinalIgnoreCase);

    /// <summary>An absolute http or https URL.</summary>
    public static bool IsValidEndpoint(string endpoint) =>
        Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    /// <summary>
    /// Adds the OpenTelemetry providers and their OTLP exporters when <paramref name="otlp"/> names a valid endpoint.
    /// An invalid endpoint or protocol adds nothing: start-up validation reports it.
    /// </summary>
    public static void Register(IServiceCollection services, OtlpOptions otlp)
    {
        if (otlp.Endpoint is not { Length: > 0 } endpoint || !IsValidEndpoint(endpoint) || !IsKnownProtocol(otlp.Protocol))
        {
            return;
        }

        var http = string.Equals(otlp.Protocol, HttpProtobuf, StringComparison.OrdinalIgnoreCase);
        var baseUri = endpoint.TrimEnd('/');
        void Configure(OtlpExporterOptions o, string signalPath)
        {
            o.Protocol = http ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
            // With http/protobuf an endpoint set in code is used as-is: add the signal's path here.
            o.Endpoint = new Uri(http ? baseUri + signalPath : baseUri);
        }

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(otlp.ServiceName))
            .WithTracing(tracing => tracing
                .AddSource(HubTracing.SourceName)
                .AddOtlpExporter(o => Configure(o, "/v1/traces")))
            .WithMetrics(metrics => metrics
                .AddMeter(HubMetrics.MeterName)
                .AddOtlpExporter((o, reader) =>
                {
                    Configure(o, "/v1/metrics");
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = otlp.MetricExportIntervalMs;
                }));
        services.AddHostedService<OtlpExport>();
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var otlp = options.Value.Otlp;
        Log.OtlpExportStarted(logger, otlp.Endpoint ?? "", otlp.Protocol);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
