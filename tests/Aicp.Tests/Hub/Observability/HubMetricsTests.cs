using System.Diagnostics.Metrics;
using Aicp.Hub.Configuration;
using Aicp.Hub.Observability;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Aicp.Tests.Hub.Observability;

/// <summary>The hub's prometheus-net registry, collected directly: series from the start, label bounds, agent series.</summary>
public sealed class HubMetricsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly AgentRegistry _registry = new(Options.Create(new AicpHubOptions()), TimeProvider.System);
    private readonly List<HubMetrics> _created = [];

    public void Dispose()
    {
        _created.ForEach(m => m.Dispose());
        _services.Dispose();
    }

    private HubMetrics Create(ObservabilityOptions? options = null)
    {
        var labels = new MetricLabels(_registry, Options.Create(options ?? new ObservabilityOptions { ExpectedCapabilities = ["image.label"] }));
        var metrics = new HubMetrics(_registry, labels, _services.GetRequiredService<IMeterFactory>());
        _created.Add(metrics);
        return metrics;
    }

    [Fact]
    public async Task Collect_NothingHappenedYet_CountersOfKnownLabelsAtZero()
    {
        var metrics = Create();

        var scrape = await MetricsScrape.CollectAsync(metrics.Registry);

        foreach (var method in new[] { "image.label", MetricLabels.Unknown })
        {
            Assert.Equal(0, scrape.Value($"aicp_tasks_submitted_total{{method=\"{method}\"}}"));
            Assert.Equal(0, scrape.Value($"aicp_failovers_total{{method=\"{method}\"}}"));
            foreach (var status in HubMetrics.FinalStatuses)
            {
                Assert.Equal(0, scrape.Value($"aicp_tasks_completed_total{{method=\"{method}\",status=\"{status}\"}}"));
            }
        }

        foreach (var counter in new[] { "aicp_late_completions_total", "aicp_foreign_completions_total", "aicp_forbidden_calls_total", "aicp_oversize_results_total" })
        {
            Assert.Equal(0, scrape.Value(counter));
        }

        Assert.Equal(0, scrape.Value("aicp_routing_decision_seconds_count"));
        Assert.Equal(0, scrape.Value("aicp_agents_connected"));
        Assert.Equal(0, scrape.Value("aicp_capability_agents{method=\"image.label\"}"));
        Assert.Contains("# TYPE aicp_failovers_total counter\n", scrape.Text);
    }

    [Fact]
    public async Task Collect_AgentRegistersANewCapability_ItsCountersAndAttemptSeriesAtZeroBeforeAnyTask()
    {
        var metrics = Create();
        _registry.Register("c1", "gpu-1", ["text.embed"], 4, new Dictionary<string, string>());

        var scrape = await MetricsScrape.CollectAsync(metrics.Registry);

        Assert.Equal(0, scrape.Value("aicp_tasks_submitted_total{method=\"text.embed\"}"));
        Assert.Equal(0, scrape.Value("aicp_failovers_total{method=\"text.embed\"}"));
        Assert.Equal(0, scrape.Value("aicp_tasks_completed_total{method=\"text.embed\",status=\"timeout\"}"));
        Assert.Equal(0, scrape.Value("aicp_task_attempts_total{agent=\"gpu-1\",method=\"text.embed\",outcome=\"error\"}"));
        Assert.Equal(1, scrape.Value("aicp_capability_agents{method=\"text.embed\"}"));
    }

    [Fact]
    public async Task Collect_Histogram_CumulativeBucketsInfSumAndCount()
    {
        var metrics = Create();
        var method = metrics.ForMethod("image.label");
        metrics.TaskFinished(method, TaskStatuses.Completed, 0.004);
        metrics.TaskFinished(method, TaskStatuses.Completed, 0.02);
        metrics.TaskFinished(method, TaskStatuses.Completed, 500);

        var text = (await MetricsScrape.CollectAsync(metrics.Registry)).Text;

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
    public async Task Collect_RoutingHistogram_BucketsFromTenMicrosecondsToFiftyMilliseconds()
    {
        var metrics = Create();
        metrics.RoutingDecided(0.000_02);

        var scrape = await MetricsScrape.CollectAsync(metrics.Registry);

        var bounds = scrape.Samples.Keys.Where(k => k.StartsWith("aicp_routing_decision_seconds_bucket", StringComparison.Ordinal))
            .Select(k => k[(k.IndexOf("le=\"", StringComparison.Ordinal) + 4)..^2]).ToList();
        Assert.Equal(["1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.05", "+Inf"], bounds);
        Assert.Equal(0, scrape.Value("aicp_routing_decision_seconds_bucket{le=\"1e-05\"}"));
        Assert.Equal(1, scrape.Value("aicp_routing_decision_seconds_bucket{le=\"2.5e-05\"}"));
    }

    [Fact]
    public async Task Collect_ExpectedCapabilityWithoutAgents_GaugeAtZeroAndUnknownMethodsFolded()
    {
        var metrics = Create();
        metrics.TaskSubmitted(metrics.ForMethod("image.label"));
        metrics.TaskSubmitted(metrics.ForMethod("made.up"));
        metrics.TaskSubmitted(metrics.ForMethod(null));

        var scrape = await MetricsScrape.CollectAsync(metrics.Registry);

        Assert.Equal(0, scrape.Value("aicp_capability_agents{method=\"image.label\"}"));
        Assert.Equal(1, scrape.Value("aicp_tasks_submitted_total{method=\"image.label\"}"));
        Assert.Equal(2, scrape.Value("aicp_tasks_submitted_total{method=\"_unknown\"}"));
        Assert.DoesNotContain("made.up", scrape.Text);
    }

    [Fact]
    public async Task ForMethod_MoreCapabilitiesThanTheCap_LaterOnesCountedAsUnknown()
    {
        var metrics = Create(new ObservabilityOptions { MaxCapabilityLabels = 2 });
        _registry.Register("c1", "gpu-1", ["cap.a", "cap.b", "cap.c"], 4, new Dictionary<string, string>());

        foreach (var method in new[] { "cap.a", "cap.b", "cap.c" })
        {
            metrics.TaskSubmitted(metrics.ForMethod(method));
        }

        var scrape = await MetricsScrape.CollectAsync(metrics.Registry);

        Assert.Equal(1, scrape.Value("aicp_tasks_submitted_total{method=\"cap.a\"}"));
        Assert.Equal(1, scrape.Value("aicp_tasks_submitted_total{method=\"cap.b\"}"));
        Assert.Equal(1, scrape.Value("aicp_tasks_submitted_total{method=\"_unknown\"}"));
        Assert.DoesNotContain("cap.c", scrape.Text);
        var methodLabels = scrape.Samples.Keys.Where(k => k.StartsWith("aicp_tasks_submitted_total{", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        Assert.Equal(["aicp_tasks_submitted_total{method=\"_unknown\"}", "aicp_tasks_submitted_total{method=\"cap.a\"}", "aicp_tasks_submitted_total{method=\"cap.b\"}"], methodLabels);
    }

    [Fact]
    public async Task Collect_AgentRegisteredAndRemoved_AgentSeriesFollowTheRegistry()
    {
        var metrics = Create();
        _registry.Register("c1", "gpu-1", ["image.label", "text.embed"], 4, new Dictionary<string, string>());
        _registry.Register("c2", "gpu-2", ["image.label"], 4, new Dictionary<string, string>());
        metrics.AttemptEnded(metrics.ForMethod("image.label"), "gpu-1", AttemptOutcomes.Completed);

        var scrape = await MetricsScrape.CollectAsync(metrics.Registry);
        Assert.Equal(0, scrape.Value("aicp_agent_pending{agent=\"gpu-1\"}"));
        Assert.Equal(4, scrape.Value("aicp_agent_max_concurrency{agent=\"gpu-1\"}"));
        Assert.Equal(0, scrape.Value("aicp_agent_circuit_state{agent=\"gpu-1\"}"));
        Assert.Equal(1, scrape.Value("aicp_task_attempts_total{agent=\"gpu-1\",method=\"image.label\",outcome=\"completed\"}"));
        Assert.Equal(1, scrape.Value("aicp_capability_agents{method=\"text.embed\"}"));

        _registry.RemoveConnection("c1");
        // An attempt that ends after its agent left does not bring the agent's series back.
        metrics.AttemptEnded(metrics.ForMethod("image.label"), "gpu-1", AttemptOutcomes.Disconnected);
        scrape = await MetricsScrape.CollectAsync(metrics.Registry);

        Assert.DoesNotContain("gpu-1", scrape.Text);
        Assert.Contains(scrape.Samples.Keys, k => k.Contains("agent=\"gpu-2\"", StringComparison.Ordinal));
        Assert.Equal(0, scrape.Value("aicp_capability_agents{method=\"text.embed\"}"));
        Assert.Equal(0, scrape.Value("aicp_failovers_total{method=\"text.embed\"}"));
    }

    [Fact]
    public async Task Collect_AgentReplacedOnANewConnection_KeepsItsSeries()
    {
        var metrics = Create();
        _registry.Register("c1", "gpu-1", ["image.label"], 4, new Dictionary<string, string>());
        metrics.AttemptEnded(metrics.ForMethod("image.label"), "gpu-1", AttemptOutcomes.Completed);

        _registry.Register("c2", "gpu-1", ["image.label"], 4, new Dictionary<string, string>());
        var scrape = await MetricsScrape.CollectAsync(metrics.Registry);

        Assert.Equal(1, scrape.Value("aicp_task_attempts_total{agent=\"gpu-1\",method=\"image.label\",outcome=\"completed\"}"));
        Assert.Equal(0, scrape.Value("aicp_agent_pending{agent=\"gpu-1\"}"));
    }

    [Fact]
    public void HubCounters_AfterEvents_ReadTheSameCounters()
    {
        var metrics = Create();
        var counters = new HubCounters(metrics);
        var image = metrics.ForMethod("image.label");
        metrics.TaskSubmitted(image);
        metrics.TaskSubmitted(metrics.ForMethod("made.up"));
        metrics.Failover(image);
        metrics.TaskFinished(image, TaskStatuses.Completed, 0.01);
        metrics.TaskRefused(image, TaskStatuses.RateLimited);
        metrics.LateCompletion();
        metrics.ForbiddenCall();

        var snapshot = counters.Snapshot();

        Assert.Equal(3, counters.Submitted);
        Assert.Equal(1, counters.Failovers);
        Assert.Equal(1, snapshot[TaskStatuses.Completed]);
        Assert.Equal(1, snapshot[TaskStatuses.RateLimited]);
        Assert.Equal(0, snapshot[TaskStatuses.Failed]);
        Assert.Equal(1, snapshot["lateCompletions"]);
        Assert.Equal(1, snapshot["forbiddenCalls"]);
        Assert.Equal(0, snapshot["oversizeResults"]);
    }

    [Fact]
    public async Task Collect_TwoHubsInOneProcess_EachCountsItsOwn()
    {
        var first = Create();
        var second = Create();
        first.TaskSubmitted(first.ForMethod("image.label"));

        Assert.Equal(1, (await MetricsScrape.CollectAsync(first.Registry)).Value("aicp_tasks_submitted_total{method=\"image.label\"}"));
        Assert.Equal(0, (await MetricsScrape.CollectAsync(second.Registry)).Value("aicp_tasks_submitted_total{method=\"image.label\"}"));
    }
}
