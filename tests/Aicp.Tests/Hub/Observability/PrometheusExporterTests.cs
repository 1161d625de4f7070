using System.Diagnostics.Metrics;
using Aicp.Hub.Configuration;
using Aicp.Hub.Observability;
using Aicp.Hub.Registry;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Aicp.Tests.Hub.Observability;

/// <summary>The exporter's text format, checked by hand and by promtool, on instruments created for the test.</summary>
public sealed class PrometheusExporterTests : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly AgentRegistry _registry;
    private readonly HubMetrics _metrics;
    private readonly PrometheusExporter _exporter;

    public PrometheusExporterTests()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _registry = new AgentRegistry(Options.Create(new AicpHubOptions()), TimeProvider.System);
        var labels = new MetricLabels(_registry, Options.Create(new ObservabilityOptions { ExpectedCapabilities = ["image.label"] }));
        _metrics = new HubMetrics(_services.GetRequiredService<IMeterFactory>(), _registry, labels, new HubCounters());
        _exporter = new PrometheusExporter(_metrics, _registry);
    }

    public void Dispose()
    {
        _exporter.Dispose();
        _services.Dispose();
    }

    [Fact]
    public async Task Render_LabelValuesWithBackslashQuoteNewline_EscapedAndPromtoolAccepts()
    {
        var promtool = ExternalTool.Promtool;
        var counter = _metrics.Meter.CreateCounter<long>("test_escapes", "{thing}", "Help with a backslash \\ and\na newline.");
        counter.Add(3, new KeyValuePair<string, object?>("path", "C:\\dir \"quoted\"\nnext"));

        var text = _exporter.Render();

        Assert.Contains("test_escapes_total{path=\"C:\\\\dir \\\"quoted\\\"\\nnext\"} 3\n", text);
        Assert.Contains("# HELP test_escapes_total Help with a backslash \\\\ and\\na newline.\n", text);
        var (exit, output) = await ExternalTool.RunAsync(promtool, ["check", "metrics"], text);
        Assert.True(exit == 0, $"promtool check metrics: {output}\n{text}");
    }

    [Fact]
    public void Render_Histogram_CumulativeBucketsInfSumAndCount()
    {
        _metrics.TaskFinished("image.label", "completed", 0.004);
        _metrics.TaskFinished("image.label", "completed", 0.02);
        _metrics.TaskFinished("image.label", "completed", 500);

        var text = _exporter.Render();

        Assert.Contains("# TYPE aicp_task_duration_seconds histogram\n", text);
        Assert.Contains("aicp_task_duration_seconds_bucket{method=\"image.label\",status=\"completed\",le=\"0.005\"} 1\n", text);
        Assert.Contains("aicp_task_duration_seconds_bucket{method=\"image.label\",status=\"completed\",le=\"0.01\"} 1\n", text);
        Assert.Contains("aicp_task_duration_seconds_bucket{method=\"image.label\",status=\"completed\",le=\"0.025\"} 2\n", text);
        Assert.Contains("aicp_task_duration_seconds_bucket{method=\"image.label\",status=\"completed\",le=\"120\"} 2\n", text);
        Assert.Contains("aicp_task_duration_seconds_bucket{method=\"image.label\",status=\"completed\",le=\"+Inf\"} 3\n", text);
        Assert.Contains("aicp_task_duration_seconds_sum{method=\"image.label\",status=\"completed\"} 500.024\n", text);
        Assert.Contains("aicp_task_duration_seconds_count{method=\"image.label\",status=\"completed\"} 3\n", text);
        Assert.Contains("aicp_tasks_completed_total{method=\"image.label\",status=\"completed\"} 3\n", text);
    }

    [Fact]
    public void Render_ExpectedCapabilityWithoutAgents_GaugeAtZeroAndUnknownMethodsFolded()
    {
        _metrics.TaskSubmitted(_metrics.Labels.Method("image.label"));
        _metrics.TaskSubmitted(_metrics.Labels.Method("made.up"));
        _metrics.TaskSubmitted(_metrics.Labels.Method(null));

        var text = _exporter.Render();

        Assert.Contains("aicp_capability_agents{method=\"image.label\"} 0\n", text);
        Assert.Contains("aicp_tasks_submitted_total{method=\"image.label\"} 1\n", text);
        Assert.Contains("aicp_tasks_submitted_total{method=\"_unknown\"} 2\n", text);
        Assert.DoesNotContain("made.up", text);
    }

    [Fact]
    public void Render_AgentRegisteredAndRemoved_AgentSeriesFollowTheRegistry()
    {
        _registry.Register("c1", "gpu-1", ["image.label", "text.embed"], 4, new Dictionary<string, string>());
        Assert.Equal("text.embed", _metrics.Labels.Method("text.embed"));
        _metrics.AttemptEnded("image.label", "gpu-1", "completed");

        var text = _exporter.Render();
        Assert.Contains("aicp_agent_pending{agent=\"gpu-1\"} 0\n", text);
        Assert.Contains("aicp_agent_circuit_state{agent=\"gpu-1\"} 0\n", text);
        Assert.Contains("aicp_task_attempts_total{agent=\"gpu-1\",method=\"image.label\",outcome=\"completed\"} 1\n", text);
        Assert.Contains("aicp_capability_agents{method=\"text.embed\"} 1\n", text);

        _registry.RemoveConnection("c1");
        text = _exporter.Render();
        Assert.DoesNotContain("gpu-1", text);
        Assert.Contains("aicp_capability_agents{method=\"text.embed\"} 0\n", text);
    }

    [Theory]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(0.1, "0.1")]
    [InlineData(1e21, "1E+21")]
    public void Number_SpecialAndLargeValues_PrometheusSpelling(double value, string expected) =>
        Assert.Equal(expected, PrometheusTextFormat.Number(value));
}
