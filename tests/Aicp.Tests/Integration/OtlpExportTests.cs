using System.Collections.Concurrent;
using Aicp.Hub.Hosting;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Aicp.Tests.Integration;

/// <summary>OTLP export (off by default) and the log/observability settings.</summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task OtlpEndpointConfigured_HttpProtobuf_TracesAndMetricsPostedToTheCollector()
    {
        var received = new ConcurrentQueue<(string Path, string? ContentType, long Bytes)>();
        var collectorBuilder = WebApplication.CreateSlimBuilder();
        collectorBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        collectorBuilder.Logging.ClearProviders();
        await using var collector = collectorBuilder.Build();
        collector.MapPost("/v1/{signal}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            received.Enqueue((context.Request.Path, context.Request.ContentType, body.Length));
            return Results.Ok();
        });
        await collector.StartAsync().DefaultTimeout();
        var collectorUrl = collector.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        var h = await HubHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Aicp:Otlp:Endpoint"] = collectorUrl,
            ["Aicp:Otlp:Protocol"] = "http/protobuf",
            ["Aicp:Otlp:MetricExportIntervalMs"] = "200",
        });
        try
        {
            await h.StartAgentAsync("o1", HubHarness.Echo("o1"));
            var client = await h.StartClientAsync();
            Assert.Equal(TaskStatuses.Completed, (await client.SubmitAsync("image.label", null).DefaultTimeout()).Status);
            await TestTimeouts.Eventually(() => received.Any(r => r.Path == "/v1/metrics"), "a metrics export");
        }
        finally
        {
            await h.DisposeAsync(); // stopping the host flushes the trace batch
        }

        await TestTimeouts.Eventually(() => received.Any(r => r.Path == "/v1/traces"), "a trace export");
        Assert.All(received, r => Assert.Equal("application/x-protobuf", r.ContentType));
        Assert.All(received, r => Assert.True(r.Bytes > 0));
    }

    [Fact]
    public async Task OtlpEndpoint_Unset_NoTelemetryProvidersRegistered()
    {
        await using var hub = await EmbeddedHub.StartAsync();

        Assert.Null(hub.Services.GetService<TracerProvider>());
        Assert.Null(hub.Services.GetService<MeterProvider>());
    }

    [Fact]
    public async Task LogFormatJson_Configured_ConsoleUsesTheJsonFormatter()
    {
        await using var hub = await EmbeddedHub.StartAsync(new Dictionary<string, string?> { ["Aicp:LogFormat"] = "json" });

        Assert.Equal(ConsoleFormatterNames.Json, hub.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName);
    }

    [Fact]
    public async Task ObservabilitySettings_Invalid_StartFailsWithEveryError()
    {
        var error = await Assert.ThrowsAsync<AicpConfigurationException>(() => EmbeddedHub.StartAsync(new Dictionary<string, string?>
        {
            ["Aicp:LogFormat"] = "xml",
            ["Aicp:Otlp:Endpoint"] = "not a url",
            ["Aicp:CapacityTargetUtilization"] = "1.5",
            ["Aicp:ExpectedCapabilities:0"] = "Bad Name",
        }).DefaultTimeout());

        Assert.Equal(4, error.Problems.Count);
        Assert.Contains(error.Problems, f => f.Contains("Aicp:LogFormat"));
        Assert.Contains(error.Problems, f => f.Contains("Aicp:Otlp:Endpoint"));
    }
}
