using System.Globalization;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Aicp.Tests.Integration;

/// <summary>
/// The <c>/dashboard</c> page in a real browser (Debian's chromium through Microsoft.Playwright) against a real hub with
/// SDK agents and submitters on loopback. Alone, after the parallel tests: a browser is the heaviest thing a test runs.
/// </summary>
[Collection(SoloCollection.Name)]
public sealed class DashboardBrowserTests(ITestOutputHelper output)
{
    private static readonly LocatorAssertionsToHaveCountOptions Within = new() { Timeout = (float)TestTimeouts.Default.TotalMilliseconds };

    [Fact]
    public async Task Dashboard_ThreeAgentsUnderLoad_ListsThemMovesAndDropsAKilledOne()
    {
        await using var h = await HubHarness.StartAsync();
        var agents = new List<AicpAgent>();
        for (var i = 1; i <= 3; i++)
        {
            agents.Add(await h.StartAgentAsync($"agent-{i}", Working($"agent-{i}", TimeSpan.FromMilliseconds(2 * i)), maxConcurrency: 8));
        }

        await agents[0].ReportLoadAsync(new AgentLoadReport
        {
            QueueDepth = 3, FreeSlots = 5,
            Gpus = [new GpuTelemetry { Index = 0, Name = "NVIDIA H200", MemoryUsedBytes = 41L << 30, MemoryTotalBytes = 141L << 30, UtilizationPercent = 87, TemperatureC = 61 }],
        }).DefaultTimeout();
        await h.StartAgentAsync("embedder-1", Working("embedder-1", TimeSpan.FromMilliseconds(5)), maxConcurrency: 4, method: "text.embed");
        var client = await h.StartClientAsync();

        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.NewPageAsync();
        await RunRecordingFailureAsync(page, nameof(Dashboard_ThreeAgentsUnderLoad_ListsThemMovesAndDropsAKilledOne), async () =>
        {
            await page.GotoAsync(new Uri(h.Hub.BaseUrl, "/dashboard/").ToString()).DefaultTimeout();
            var rows = page.Locator("#agents tbody tr[data-agent-id]");
            await Expect(rows).ToHaveCountAsync(4, Within);
            Assert.Equal(["agent-1", "agent-2", "agent-3", "embedder-1"], await AgentIdsAsync(page));
            await Expect(page.Locator("#connection")).ToHaveAttributeAsync("data-state", "live");
            await Expect(page.Locator("#cluster")).ToBeHiddenAsync(); // not a node of a cluster
            Assert.Contains("NVIDIA H200", await page.Locator("tr[data-agent-id=\"agent-1\"]").InnerTextAsync().DefaultTimeout());

            // Load: eight tasks in flight until both capabilities have charted eight seconds of it.
            using var stop = new CancellationTokenSource();
            var load = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
            {
                var method = i == 0 ? "text.embed" : "image.label";
                while (!stop.IsCancellationRequested)
                {
                    await client.SubmitAsync(method, new { n = i }).DefaultTimeout();
                }
            })).ToArray();

            await page.WaitForFunctionAsync("() => Number(document.querySelector('[data-total=\"completed\"] dd')?.dataset.value) > 100").DefaultTimeout();
            await page.WaitForFunctionAsync("""
                () => [...document.querySelectorAll('figure.trend')].filter(f => Number(f.dataset.points) >= 8 && Number(f.dataset.maxTasksPerSecond) > 0).length === 2
                """).DefaultTimeout();
            var before = await CompletedAsync(page);
            await page.WaitForFunctionAsync($"() => Number(document.querySelector('[data-total=\"completed\"] dd')?.dataset.value) > {before}").DefaultTimeout();
            var tasksPerSecond = await page.Locator("#capabilities tr[data-method=\"image.label\"] [data-cell=\"tasks-per-second\"]").InnerTextAsync().DefaultTimeout();
            Assert.True(double.Parse(tasksPerSecond, NumberStyles.Any, CultureInfo.InvariantCulture) > 0, $"tasks/s shown: {tasksPerSecond}");
            Assert.True(await page.Locator("#routes tbody tr[data-sequence]").CountAsync().DefaultTimeout() > 0);
            Assert.Equal(4, await page.Locator("figure.trend canvas").CountAsync().DefaultTimeout()); // two uPlot charts per capability

            var screenshot = await Chromium.ScreenshotAsync(page, "dashboard-under-load");
            output.WriteLine($"screenshot: {screenshot}");

            // An agent killed (its socket dropped, as a crash would) disappears within seconds.
            await agents[2].AbortAsync().DefaultTimeout();
            var killed = DateTime.UtcNow;
            await Expect(page.Locator("tr[data-agent-id=\"agent-3\"]")).ToHaveCountAsync(0, new() { Timeout = 5_000 });
            output.WriteLine($"agent-3 left the page {(DateTime.UtcNow - killed).TotalMilliseconds:0} ms after it was killed");
            Assert.Equal(["agent-1", "agent-2", "embedder-1"], await AgentIdsAsync(page));

            await stop.CancelAsync();
            await Task.WhenAll(load).DefaultTimeout();
        });
    }

    [Fact]
    public async Task Dashboard_NodeOfACluster_ClusterPanelListsBothNodesAndTheOtherNodesAgent()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var one = await HubHarness.StartAsync(redis.NodeSettings("node-1"));
        await using var two = await HubHarness.StartAsync(redis.NodeSettings("node-2"));
        await one.StartAgentAsync("remote-1", HubHarness.Echo("remote-1"), maxConcurrency: 4);
        await one.StartAgentAsync("remote-2", HubHarness.Echo("remote-2"), maxConcurrency: 2, method: "text.embed");
        await two.StartAgentAsync("local-1", HubHarness.Echo("local-1"), maxConcurrency: 8);

        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.NewPageAsync();
        await RunRecordingFailureAsync(page, nameof(Dashboard_NodeOfACluster_ClusterPanelListsBothNodesAndTheOtherNodesAgent), async () =>
        {
            await page.GotoAsync(new Uri(two.Hub.BaseUrl, "/dashboard/").ToString()).DefaultTimeout();
            var cluster = page.Locator("#cluster");
            await Expect(cluster).ToBeVisibleAsync(new() { Timeout = (float)TestTimeouts.Default.TotalMilliseconds });
            await Expect(cluster.Locator("[data-redis]")).ToHaveAttributeAsync("data-redis", "up");
            await Expect(page.Locator("#cluster-state")).ToContainTextAsync("This node: node-2.");

            var nodes = page.Locator("#cluster-nodes tbody tr[data-node]");
            await Expect(nodes).ToHaveCountAsync(2, Within);
            await Expect(page.Locator("#cluster-nodes tr[data-node=\"node-1\"] [data-cell=\"agents\"]")).ToHaveTextAsync("2");
            await Expect(page.Locator("#cluster-nodes tr[data-node=\"node-1\"]")).ToContainTextAsync("0 / 6");
            await Expect(page.Locator("#cluster-nodes tr[data-node=\"node-2\"]")).ToContainTextAsync("this node");
            await Expect(page.Locator("#cluster-nodes tr[data-node=\"node-2\"] [data-cell=\"agents\"]")).ToHaveTextAsync("1");

            var remote = page.Locator("#cluster-agents tbody tr[data-cluster-agent-id]");
            await Expect(remote).ToHaveCountAsync(2, Within);
            Assert.Equal(["remote-1 node-1", "remote-2 node-1"],
                await remote.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.clusterAgentId + ' ' + r.dataset.node)").DefaultTimeout());
            var row = await page.Locator("tr[data-cluster-agent-id=\"remote-2\"]").InnerTextAsync().DefaultTimeout();
            Assert.Contains("text.embed", row);
            Assert.Contains("0 / 2", row);
            Assert.Equal(1, await page.Locator("tr[data-cluster-agent-id=\"remote-2\"] .agent-healthy").CountAsync().DefaultTimeout());
            Assert.Equal(["local-1"], await AgentIdsAsync(page)); // this node's own agents stay in the agents table

            // The filter narrows the other nodes' agents.
            await page.Locator("#cluster-agent-filter").FillAsync("text.embed").DefaultTimeout();
            await Expect(remote).ToHaveCountAsync(1, Within);
            await Expect(remote).ToHaveAttributeAsync("data-cluster-agent-id", "remote-2");

            output.WriteLine($"screenshot: {await Chromium.ScreenshotAsync(page, "dashboard-cluster")}");
        });
    }

    [Fact]
    public async Task Dashboard_KeysConfigured_ShowsNoDataWithoutTheAdminKey()
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());
        await h.StartAgentAsync("gpu-1", HubHarness.Echo("gpu-1"), accessToken: TestCredentials.AgentKey);

        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.NewPageAsync();
        await RunRecordingFailureAsync(page, nameof(Dashboard_KeysConfigured_ShowsNoDataWithoutTheAdminKey), async () =>
        {
            await page.GotoAsync(new Uri(h.Hub.BaseUrl, "/dashboard/").ToString()).DefaultTimeout();
            var connection = page.Locator("#connection");
            await Expect(connection).ToHaveAttributeAsync("data-state", "refused");
            await Expect(connection).ToContainTextAsync("needs a credential (401)");
            await AssertNoDataAsync(page);

            await ConnectWithKeyAsync(page, TestCredentials.SubmitterKey);
            await Expect(connection).ToContainTextAsync("lacks the admin role");
            await AssertNoDataAsync(page);

            await ConnectWithKeyAsync(page, "not-a-key");
            await Expect(connection).ToContainTextAsync("does not accept this key (401)");
            await AssertNoDataAsync(page);

            await ConnectWithKeyAsync(page, TestCredentials.AdminKey);
            await Expect(page.Locator("tr[data-agent-id=\"gpu-1\"]")).ToHaveCountAsync(1, Within);
            await Expect(connection).ToHaveAttributeAsync("data-state", "live");
        });
    }

    [Fact]
    public async Task Dashboard_BrowserLibrariesMissing_SaysWhatIsMissing()
    {
        await using var h = await HubHarness.StartAsync();
        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.NewPageAsync();
        await page.RouteAsync("**/lib/*.js", route => route.FulfillAsync(new RouteFulfillOptions { Status = 404, Body = "not found" }));
        await RunRecordingFailureAsync(page, nameof(Dashboard_BrowserLibrariesMissing_SaysWhatIsMissing), async () =>
        {
            await page.GotoAsync(new Uri(h.Hub.BaseUrl, "/dashboard/").ToString()).DefaultTimeout();
            var missing = page.Locator("#missing");
            await Expect(missing).ToBeVisibleAsync();
            await Expect(missing).ToContainTextAsync("lib/signalr.min.js");
            await Expect(missing).ToContainTextAsync("scripts/setup-npm.sh");
            await Expect(page.Locator("#charts-missing")).ToContainTextAsync("lib/uPlot.iife.min.js");
            await Expect(page.Locator("#connection")).ToHaveAttributeAsync("data-state", "error");
        });
    }

    /// <summary>An agent handler that takes <paramref name="work"/> and answers with the agent's id.</summary>
    private static Func<AgentTaskContext, CancellationToken, ValueTask<JsonElement>> Working(string id, TimeSpan work) => async (task, cancel) =>
    {
        await Task.Delay(work, cancel); // the agent's simulated work, not a wait for an event
        return JsonSerializer.SerializeToElement(new { agent = id, attempt = task.Attempt });
    };

    private static async Task<string[]> AgentIdsAsync(IPage page) =>
        [.. (await page.Locator("#agents tbody tr[data-agent-id]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.agentId)").DefaultTimeout())];

    private static async Task<long> CompletedAsync(IPage page) =>
        long.Parse(await page.Locator("[data-total=\"completed\"] dd").GetAttributeAsync("data-value").DefaultTimeout() ?? "0", CultureInfo.InvariantCulture);

    private static async Task ConnectWithKeyAsync(IPage page, string key)
    {
        await page.Locator("#key").FillAsync(key).DefaultTimeout();
        await page.GetByRole(AriaRole.Button, new() { Name = "Connect" }).ClickAsync().DefaultTimeout();
    }

    private static async Task AssertNoDataAsync(IPage page)
    {
        await Expect(page.Locator("#agents tbody tr")).ToHaveCountAsync(0, Within);
        await Expect(page.Locator("#totals > div")).ToHaveCountAsync(0, Within);
        Assert.Null(await page.Locator("body").GetAttributeAsync("data-updated").DefaultTimeout());
    }

    /// <summary>Runs the test's steps; on failure saves a screenshot of the page beside the other artifacts first.</summary>
    private async Task RunRecordingFailureAsync(IPage page, string name, Func<Task> steps)
    {
        try
        {
            await steps();
        }
        catch
        {
            try
            {
                output.WriteLine($"failure screenshot: {await Chromium.ScreenshotAsync(page, name + "-failed")}");
            }
            catch (Exception screenshotError)
            {
                output.WriteLine($"no failure screenshot: {screenshotError.Message}");
            }

            throw;
        }
    }
}
