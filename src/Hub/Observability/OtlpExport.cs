using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Aicp.Hub.Observability;

/// <summary>
/// Exports the hub's traces (<see cref="HubTracing.SourceName"/>) and metrics (<see cref="HubMetrics.MeterName"/>)
/// over OTLP when <c>Aicp:Otlp:Endpoint</c> is set; does nothing otherwise. OpenTelemetry.Extensions.Hosting is
/// not available here, so the providers are built with the SDK's builders when the host starts and disposed
/// (which flushes them) when it stops.
/// </summary>
internal sealed class OtlpExport(IOptions<ObservabilityOptions> options, ILogger<OtlpExport> logger) : IHostedService, IDisposable
{
    public const string Grpc = "grpc";
    public const string HttpProtobuf = "http/protobuf";

    private TracerProvider? _tracer;
    private MeterProvider? _meter;

    public bool IsExporting => _tracer is not null;

    public static bool IsKnownProtocol(string? protocol) =>
        string.Equals(protocol, Grpc, StringComparison.OrdinalIgnoreCase) || string.Equals(protocol, HttpProtobuf, StringComparison.OrdinalIgnoreCase);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var otlp = options.Value.Otlp;
        if (string.IsNullOrEmpty(otlp.Endpoint))
        {
            return Task.CompletedTask;
        }

        var http = string.Equals(otlp.Protocol, HttpProtobuf, StringComparison.OrdinalIgnoreCase);
        var baseUri = otlp.Endpoint.TrimEnd('/');
        void Configure(OtlpExporterOptions o, string signalPath)
        {
            o.Protocol = http ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
            // With http/protobuf an endpoint set in code is used as-is: add the signal's path here.
            o.Endpoint = new Uri(http ? baseUri + signalPath : baseUri);
        }

        var resource = ResourceBuilder.CreateDefault().AddService(otlp.ServiceName);
        _tracer = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(HubTracing.SourceName)
            .AddOtlpExporter(o => Configure(o, "/v1/traces"))
            .Build();
        _meter = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(HubMetrics.MeterName)
            .AddOtlpExporter((o, reader) =>
            {
                Configure(o, "/v1/metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = otlp.MetricExportIntervalMs;
            })
            .Build();
        Log.OtlpExportStarted(logger, otlp.Endpoint, otlp.Protocol);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _tracer, null)?.Dispose();
        Interlocked.Exchange(ref _meter, null)?.Dispose();
    }
}
