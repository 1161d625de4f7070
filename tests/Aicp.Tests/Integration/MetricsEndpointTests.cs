using System.Text.Json;
using Aicp.Agent.Sdk.Client;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Observability;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Aicp.Tests.Integration;

/// <summary><c>GET /metrics</c> of a real hub: format (checked by promtool), values, and bounded label sets.</summary>
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Metrics_AfterTraffic_PassesPromtoolAndCountsMatch()
    {
        var promtool = ExternalTool.Promtool;
        await using var h = await HubHarness.StartAsync();
        await h.StartAgentAsync("good", HubHarness.Echo("good"));
        await h.StartAgentAsync("bad", (_, _) => throw new InvalidOperationException("boom"));
        await h.StartAgentAsync("broken", (_, _) => throw new InvalidOperationException("boom"), method: "text.embed");
        var client = await h.StartClientAsync();

        for (var i = 0; i < 12; i++)
        {
            var result = await client.SubmitAsync("image.label", new { i }, new SubmitOptions { Strategy = new RoutingStrategy("round-robin") }).DefaultTimeout();
            Assert.Equal(TaskStatuses.Completed, result.Status);
        }

        var failed = await client.SubmitAsync("text.embed", null).DefaultTimeout();
        Assert.Equal(TaskStatuses.Failed, failed.Status);
        var noAgents = await client.SubmitAsync("nobody.serves-this", null).DefaultTimeout();
        Assert.Equal(TaskStatuses.NoAgents, noAgents.Status);

        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };
        using var response = await http.GetAsync("/metrics").DefaultTimeout();
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        var text = await response.Content.ReadAsStringAsync();

        var (exit, output) = await ExternalTool.RunAsync(promtool, ["check", "metrics"], text);
        Assert.True(exit == 0, $"promtool check metrics failed ({exit}): {output}\n{text}");

        var scrape = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);
        Assert.Equal(12, scrape.Value("aicp_tasks_submitted_total{method=\"image.label\"}"));
        Assert.Equal(1, scrape.Value("aicp_tasks_submitted_total{method=\"text.embed\"}"));
        Assert.Equal(1, scrape.Value("aicp_tasks_submitted_total{method=\"_unknown\"}"));
        Assert.Equal(12, scrape.Value("aicp_tasks_completed_total{method=\"image.label\",status=\"completed\"}"));
        Assert.Equal(1, scrape.Value("aicp_tasks_completed_total{method=\"text.embed\",status=\"failed\"}"));
        Assert.Equal(1, scrape.Value("aicp_tasks_completed_total{method=\"_unknown\",status=\"no_agents\"}"));
        Assert.Equal(12, scrape.Value("aicp_task_attempts_total{agent=\"good\",method=\"image.label\",outcome=\"completed\"}"));
        Assert.True(scrape.Value("aicp_task_attempts_total{agent=\"bad\",method=\"image.label\",outcome=\"error\"}") >= 1);
        Assert.True(scrape.Value("aicp_failovers_total{method=\"image.label\"}") >= 1);
        Assert.Equal(12, scrape.Value("aicp_task_duration_seconds_bucket{method=\"image.label\",status=\"completed\",le=\"+Inf\"}"));
        Assert.Equal(12, scrape.Value("aicp_task_duration_seconds_count{method=\"image.label\",status=\"completed\"}"));
        Assert.True(scrape.Value("aicp_routing_decision_seconds_count") >= 13);
        Assert.Equal(3, scrape.Value("aicp_agents_connected"));
        Assert.Equal(2, scrape.Value("aicp_capability_agents{method=\"image.label\"}"));
        Assert.Equal(0, scrape.Value("aicp_queue_depth{method=\"image.label\"}"));
        Assert.Equal(0, scrape.Value("aicp_agent_pending{agent=\"good\"}"));
        Assert.Equal(0, scrape.Value("aicp_agent_circuit_state{agent=\"good\"}"));
        Assert.InRange(scrape.Value("aicp_agent_circuit_state{agent=\"bad\"}"), 0, 2); // its failures may have opened it
        Assert.InRange(scrape.Value("aicp_agent_trust{agent=\"good\"}"), 0.5, 1);
        Assert.True(scrape.Value("aicp_agent_latency_ewma_seconds{agent=\"good\",method=\"image.label\"}") >= 0);
        Assert.Equal(0, scrape.Value("aicp_late_completions_total"));
        Assert.True(scrape.Value("process_cpu_seconds_total") > 0);
        Assert.True(scrape.Value("process_resident_memory_bytes") > 0);
        Assert.True(scrape.Value("process_start_time_seconds") > 1_600_000_000);
        Assert.True(scrape.Value("dotnet_gc_collections_total{generation=\"0\"}") >= 0);
        Assert.Contains("# TYPE aicp_task_duration_seconds histogram", scrape.Text);
        Assert.Contains("# TYPE aicp_tasks_completed_total counter", scrape.Text);
        Assert.Contains("# TYPE aicp_agents_connected gauge", scrape.Text);
        Assert.Contains("# HELP aicp_tasks_submitted_total ", scrape.Text);
    }

    [Fact]
    public async Task Metrics_FreshHub_CountersExistAtZeroBeforeTheFirstEvent()
    {
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:ExpectedCapabilities:0"] = "text.embed" });

        var fresh = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);
        Assert.Equal(0, fresh.Value("aicp_failovers_total{method=\"text.embed\"}"));
        Assert.Equal(0, fresh.Value("aicp_failovers_total{method=\"_unknown\"}"));
        Assert.Equal(0, fresh.Value("aicp_tasks_submitted_total{method=\"text.embed\"}"));
        Assert.Equal(0, fresh.Value("aicp_tasks_completed_total{method=\"text.embed\",status=\"failed\"}"));
        Assert.Equal(0, fresh.Value("aicp_late_completions_total"));
        Assert.Equal(0, fresh.Value("aicp_foreign_completions_total"));
        Assert.Equal(0, fresh.Value("aicp_capability_healthy_agents{method=\"text.embed\"}"));

        // A capability an agent brings is published as soon as the hub knows it, before any task for it.
        await h.StartAgentAsync("a1", HubHarness.Echo("a1"));
        var withAgent = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);
        Assert.Equal(0, withAgent.Value("aicp_failovers_total{method=\"image.label\"}"));
        Assert.Equal(0, withAgent.Value("aicp_tasks_completed_total{method=\"image.label\",status=\"timeout\"}"));
        Assert.Equal(0, withAgent.Value("aicp_task_attempts_total{agent=\"a1\",method=\"image.label\",outcome=\"error\"}"));
        Assert.Equal(1, withAgent.Value("aicp_capability_agents{method=\"image.label\"}"));
    }

    [Fact]
    public async Task StatsAndMetrics_AfterTasksWithFailovers_ReportTheSameTotals()
    {
        await using var h = await HubHarness.StartAsync();
        await h.StartAgentAsync("good", HubHarness.Echo("good"));
        await h.StartAgentAsync("bad", (_, _) => throw new InvalidOperationException("boom"));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await h.StartAgentAsync("slow", async (_, _) =>
        {
            await release.Task; // answers only after the hub gave up: a late completion
            return JsonSerializer.SerializeToElement("late");
        }, method: "slow.work");
        var client = await h.StartClientAsync();

        for (var i = 0; i < 12; i++)
        {
            var result = await client.SubmitAsync("image.label", new { i }, new SubmitOptions { Strategy = new RoutingStrategy("round-robin") }).DefaultTimeout();
            Assert.Equal(TaskStatuses.Completed, result.Status);
        }

        Assert.Equal(TaskStatuses.Timeout, (await client.SubmitAsync("slow.work", null, new SubmitOptions { Timeout = TimeSpan.FromMilliseconds(150), MaxAttempts = 1 }).DefaultTimeout()).Status);
        release.SetResult();
        await TestTimeouts.Eventually(() => h.Counters.LateCompletions == 1, "the late completion to be counted");
        Assert.Equal(TaskStatuses.NoAgents, (await client.SubmitAsync("nobody.serves-this", null).DefaultTimeout()).Status);
        Assert.Equal(TaskStatuses.Rejected, (await client.SubmitAsync("Not A Valid Name", null).DefaultTimeout()).Status);
        await h.AssertNothingPendingAsync();

        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };
        using var stats = JsonDocument.Parse(await http.GetStringAsync("/v1/stats").DefaultTimeout());
        var scrape = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);

        var tasks = stats.RootElement.GetProperty("tasks");
        long Stat(string key) => tasks.GetProperty(key).GetInt64();
        Assert.True(Stat("failovers") >= 1, "round-robin over a failing agent fails over");
        Assert.Equal(1, Stat("lateCompletions"));
        Assert.Equal(15, Stat("submitted"));
        Assert.Equal(Stat("submitted"), scrape.Sum("aicp_tasks_submitted_total"));
        foreach (var status in HubMetrics.FinalStatuses)
        {
            var metric = scrape.Samples.Where(s => s.Key.StartsWith("aicp_tasks_completed_total{", StringComparison.Ordinal) && s.Key.Contains($"status=\"{status}\"", StringComparison.Ordinal))
                .Sum(s => double.Parse(s.Value, System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(Stat(status) == metric, $"{status}: /v1/stats {Stat(status)}, /metrics {metric}");
        }

        Assert.Equal(Stat("failovers"), scrape.Sum("aicp_failovers_total"));
        Assert.Equal(Stat("lateCompletions"), scrape.Value("aicp_late_completions_total"));
        Assert.Equal(Stat("foreignCompletions"), scrape.Value("aicp_foreign_completions_total"));
        Assert.Equal(Stat("forbiddenCalls"), scrape.Value("aicp_forbidden_calls_total"));
        Assert.Equal(Stat("oversizeResults"), scrape.Value("aicp_oversize_results_total"));
        Assert.Equal(stats.RootElement.GetProperty("agents").GetInt32(), scrape.Value("aicp_agents_connected"));
        Assert.Equal(Stat("failovers"), scrape.Sum("aicp_task_attempts_total") - (Stat("submitted") - Stat(TaskStatuses.NoAgents) - Stat(TaskStatuses.Rejected)));
    }

    [Fact]
    public async Task Metrics_TwentyThousandUnknownMethods_SeriesCountUnchanged()
    {
        await using var h = await HubHarness.StartAsync();
        await h.StartAgentAsync("a1", HubHarness.Echo("a1"));
        var client = await h.StartClientAsync();
        Assert.Equal(TaskStatuses.Completed, (await client.SubmitAsync("image.label", null).DefaultTimeout()).Status);
        // One of each status the flood produces, so the label combinations exist before it: only their values may change.
        Assert.Equal(TaskStatuses.NoAgents, (await client.SubmitAsync("warm-up.unknown", null).DefaultTimeout()).Status);
        Assert.Equal(TaskStatuses.Rejected, (await client.SubmitAsync("Not A Valid Name", null).DefaultTimeout()).Status);
        var before = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);

        // 500 over the wire, the rest straight into the dispatcher (the hub method is a one-line pass-through).
        var wire = Enumerable.Range(0, 500).Select(i => client.SubmitAsync($"flood-{i}.wire", null));
        Assert.All(await Task.WhenAll(wire).DefaultTimeout(), r => Assert.Equal(TaskStatuses.NoAgents, r.Status));
        var dispatcher = h.Hub.Services.GetRequiredService<TaskDispatcher>();
        for (var i = 0; i < 19_500; i++)
        {
            var method = i % 10 == 0 ? new string('x', 200) + i : $"flood-{i}.direct"; // some are invalid names too
            var result = await dispatcher.SubmitAsync(new TaskRequest { Method = method }, CancellationToken.None).DefaultTimeout();
            Assert.NotEqual(TaskStatuses.Completed, result.Status);
        }

        var after = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);
        Assert.Equal(before.Samples.Keys.Order(StringComparer.Ordinal), after.Samples.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(20_002, after.Value("aicp_tasks_submitted_total{method=\"_unknown\"}"));
        Assert.DoesNotContain("flood-", after.Text);
    }

    [Fact]
    public async Task Metrics_AgentDisconnects_ItsSeriesDisappear()
    {
        await using var h = await HubHarness.StartAsync();
        await h.StartAgentAsync("stays", HubHarness.Echo("stays"));
        var leaving = await h.StartAgentAsync("leaves", HubHarness.Echo("leaves"));
        var client = await h.StartClientAsync();
        for (var i = 0; i < 6; i++)
        {
            await client.SubmitAsync("image.label", null, new SubmitOptions { Strategy = new RoutingStrategy("round-robin") }).DefaultTimeout();
        }

        var before = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);
        Assert.Contains(before.Samples.Keys, k => k.Contains("agent=\"leaves\"") && k.StartsWith("aicp_task_attempts_total"));
        Assert.Contains(before.Samples.Keys, k => k.Contains("agent=\"leaves\"") && k.StartsWith("aicp_agent_pending"));

        await leaving.StopAsync().DefaultTimeout();
        await TestTimeouts.Eventually(() => h.Registry.GetById("leaves") is null, "agent 'leaves' gone from the registry");

        var after = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);
        Assert.DoesNotContain(after.Samples.Keys, k => k.Contains("agent=\"leaves\""));
        Assert.Contains(after.Samples.Keys, k => k.Contains("agent=\"stays\"") && k.StartsWith("aicp_task_attempts_total"));
        Assert.Equal(6, after.Value("aicp_tasks_completed_total{method=\"image.label\",status=\"completed\"}"));
    }

    [Fact]
    public async Task Metrics_CapabilityLosesItsAgents_GaugeReportsZero()
    {
        await using var h = await HubHarness.StartAsync();
        var agent = await h.StartAgentAsync("only", HubHarness.Echo("only"));
        Assert.Equal(1, (await MetricsScrape.FetchAsync(h.Hub.BaseUrl)).Value("aicp_capability_agents{method=\"image.label\"}"));

        await agent.StopAsync().DefaultTimeout();
        await TestTimeouts.Eventually(() => h.Registry.Count == 0, "agent gone");

        var scrape = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);
        Assert.Equal(0, scrape.Value("aicp_capability_agents{method=\"image.label\"}"));
        Assert.Equal(0, scrape.Value("aicp_capability_healthy_agents{method=\"image.label\"}"));
        Assert.Equal(0, scrape.Value("aicp_agents_connected"));
    }
}
