using System.Text.Json;
using Aicp.Agent.Sdk.Connection;
using Aicp.Hub.Dashboard;
using Aicp.Hub.Observability;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Aicp.Tests.Integration;

/// <summary>The live status feed (<c>SubscribeStatus</c>) over real sockets, as the dashboard page uses it.</summary>
public sealed class StatusFeedIntegrationTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static Dictionary<string, string?> FastFeed(Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?> { ["Aicp:Dashboard:PushIntervalMs"] = "200" };
        foreach (var (k, v) in extra ?? [])
        {
            settings[k] = v;
        }

        return settings;
    }

    [Theory]
    [InlineData(HubProtocol.Json)]
    [InlineData(HubProtocol.MessagePack)]
    public async Task SubscribeStatus_TasksRun_SnapshotsCarryAgentsTotalsTrendsAndRoutes(HubProtocol protocol)
    {
        await using var h = await HubHarness.StartAsync(FastFeed(), protocol: protocol);
        await h.StartAgentAsync("a1", HubHarness.Echo("a1"), maxConcurrency: 4);
        await h.StartAgentAsync("a2", HubHarness.Echo("a2"), maxConcurrency: 4);
        var client = await h.StartClientAsync();
        await using var subscriber = await StatusSubscriber.ConnectAsync(h);

        var subscription = await subscriber.SubscribeAsync(new StatusView());
        Assert.Equal(200, subscription.IntervalMs);
        var first = await subscriber.NextAsync(_ => true);
        Assert.True(first.Full);
        Assert.Null(first.Cluster); // not a node of a cluster
        Assert.Equal(["a1", "a2"], first.Agents.Items.Select(a => a.Id));
        Assert.Equal(2, first.Totals.Agents);
        Assert.True(first.Totals.Connections >= 4); // two agents, the submitter, the subscriber

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(TaskStatuses.Completed, (await client.SubmitAsync("image.label", null).DefaultTimeout()).Status);
        }

        var moved = await subscriber.NextAsync(s => s.Totals.Tasks["completed"] == 20 && s.Capabilities.Trends.Count == 1
            && s.Capabilities.Trends[0].TasksPerSecond.Any(v => v > 0));
        Assert.False(moved.Full);
        Assert.Equal("image.label", Assert.Single(moved.Capabilities.Items).Method);
        Assert.Equal(20, moved.Routes.Count);
        Assert.All(moved.Routes, r => Assert.Equal("image.label", r.Method));
        Assert.Equal(20, moved.Agents.Items.Sum(a => a.Completed));

        // p50/p95 come from the tasks completed in a second.
        var latency = await subscriber.NextAsync(s => s.Capabilities.Trends.Any(t => t.P50Ms.Any(v => v > 0)));
        var trend = latency.Capabilities.Trends[0];
        Assert.All(trend.P95Ms.Zip(trend.P50Ms), p => Assert.True(p.First >= p.Second || (p.First, p.Second) == (null, null))); // a second without completions has neither
    }

    [Fact]
    public async Task SubscribeStatus_OneSecondInterval_AtMostAboutOnePushPerSecond()
    {
        await using var h = await HubHarness.StartAsync();
        await using var subscriber = await StatusSubscriber.ConnectAsync(h);
        await subscriber.SubscribeAsync(new StatusView());
        await subscriber.NextAsync(_ => true);
        var started = DateTime.UtcNow;
        await subscriber.NextAsync(_ => subscriber.Received.Count >= 4, TimeSpan.FromSeconds(10));
        var elapsed = DateTime.UtcNow - started;

        // three pushes after the first, at one a second: at least two seconds apart in all
        Assert.True(elapsed >= TimeSpan.FromSeconds(2), $"4 snapshots in {elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task SubscribeStatus_ThousandAgents_PushesOnePageWithinBoundedSize()
    {
        await using var h = await HubHarness.StartAsync(FastFeed());
        for (var i = 0; i < 1000; i++)
        {
            h.Registry.Register($"conn-{i}", $"agent-{i:0000}", [i % 2 == 0 ? "image.label" : "text.embed"], 8, new Dictionary<string, string>());
        }

        await using var subscriber = await StatusSubscriber.ConnectAsync(h);
        var subscription = await subscriber.SubscribeAsync(new StatusView { AgentPageSize = 5_000, AgentPage = 3 });
        Assert.Equal(StatusView.MaxAgentPageSize, subscription.View.AgentPageSize);
        var page = await subscriber.NextAsync(s => s.Full);
        Assert.Equal(1000, page.Agents.Total);
        Assert.Equal(3, page.Agents.Page);
        Assert.Equal(Enumerable.Range(300, 100).Select(i => $"agent-{i:0000}"), page.Agents.Items.Select(a => a.Id));
        Assert.Equal(["image.label", "text.embed"], page.Capabilities.Items.Select(c => c.Method));
        Assert.True(JsonSerializer.SerializeToUtf8Bytes(page, Web).Length < 128 * 1024);

        // The last page, past the end: clamped. A filter narrows before paging.
        await subscriber.SubscribeAsync(new StatusView { AgentPage = 400, AgentFilter = "agent-09" });
        var filtered = await subscriber.NextAsync(s => s.Full && s.Agents.Matching == 100);
        Assert.Equal(3, filtered.Agents.Page);
        Assert.Equal(Enumerable.Range(975, 25).Select(i => $"agent-{i:0000}"), filtered.Agents.Items.Select(a => a.Id));
        Assert.Equal(1000, filtered.Agents.Total);
    }

    [Fact]
    public async Task SubscribeStatus_AgentLeaves_NextSnapshotOmitsIt()
    {
        await using var h = await HubHarness.StartAsync(FastFeed());
        await h.StartAgentAsync("a1", HubHarness.Echo("a1"));
        var victim = await h.StartAgentAsync("a2", HubHarness.Echo("a2"));
        await using var subscriber = await StatusSubscriber.ConnectAsync(h);
        await subscriber.SubscribeAsync(new StatusView());
        await subscriber.NextAsync(s => s.Agents.Items.Count == 2);

        await victim.AbortAsync().DefaultTimeout();
        var after = await subscriber.NextAsync(s => s.Agents.Items.Count == 1);
        Assert.Equal("a1", after.Agents.Items[0].Id);
    }

    [Fact]
    public async Task SubscribeStatus_NobodySubscribed_NothingSamplesOrListens()
    {
        await using var h = await HubHarness.StartAsync(FastFeed());
        var feed = h.Hub.Services.GetRequiredService<StatusFeed>();
        var instrument = h.Hub.Services.GetRequiredService<HubMetrics>().TaskDurationInstrument;
        Assert.False(feed.IsSampling);
        Assert.False(instrument.Enabled);

        var subscriber = await StatusSubscriber.ConnectAsync(h);
        await subscriber.SubscribeAsync(new StatusView());
        await TestTimeouts.Eventually(() => feed.IsSampling && instrument.Enabled, "the feed sampling");
        Assert.Equal(1, feed.SubscriberCount);

        await subscriber.DisposeAsync();
        await TestTimeouts.Eventually(() => feed.SubscriberCount == 0 && !feed.IsSampling && !instrument.Enabled, "the feed idle again");
        var pushes = feed.Pushes;
        await h.StartAgentAsync("a1", HubHarness.Echo("a1"));
        var client = await h.StartClientAsync();
        Assert.Equal(TaskStatuses.Completed, (await client.SubmitAsync("image.label", null).DefaultTimeout()).Status);
        Assert.Equal(pushes, feed.Pushes);
    }

    [Fact]
    public async Task Subscribe_ConnectionAlreadyGone_DroppedAtOnce()
    {
        await using var h = await HubHarness.StartAsync(FastFeed());
        var feed = h.Hub.Services.GetRequiredService<StatusFeed>();

        Assert.NotNull(feed.Subscribe("closed-connection", new StatusView()));

        Assert.Equal(0, feed.SubscriberCount);
        await TestTimeouts.Eventually(() => !feed.IsSampling, "the feed idle");
    }

    [Fact]
    public async Task UnsubscribeStatus_Subscribed_PushesStop()
    {
        await using var h = await HubHarness.StartAsync(FastFeed());
        var feed = h.Hub.Services.GetRequiredService<StatusFeed>();
        await using var subscriber = await StatusSubscriber.ConnectAsync(h);
        await subscriber.SubscribeAsync(new StatusView());
        await subscriber.NextAsync(_ => true);

        Assert.True(await subscriber.Connection.Connection.InvokeAsync<bool>("UnsubscribeStatus").DefaultTimeout());
        Assert.False(await subscriber.Connection.Connection.InvokeAsync<bool>("UnsubscribeStatus").DefaultTimeout());
        Assert.Equal(0, feed.SubscriberCount);
    }

    [Theory]
    [InlineData(TestCredentials.SubmitterKey)]
    [InlineData(TestCredentials.AgentKey)]
    public async Task SubscribeStatus_KeysConfiguredWithoutAdmin_Forbidden(string key)
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured(FastFeed()));
        await using var subscriber = await StatusSubscriber.ConnectAsync(h, key);
        var refused = await Assert.ThrowsAsync<HubException>(() => subscriber.SubscribeAsync(new StatusView()));
        Assert.Contains($"{ErrorCodes.Forbidden}: SubscribeStatus needs the 'admin' role", refused.Message);
        Assert.Equal(0, h.Hub.Services.GetRequiredService<StatusFeed>().SubscriberCount);
        Assert.Empty(subscriber.Received);

        await using var admin = await StatusSubscriber.ConnectAsync(h, TestCredentials.AdminKey);
        await admin.SubscribeAsync(new StatusView());
        Assert.True((await admin.NextAsync(_ => true)).Full);
    }

    [Fact]
    public async Task SubscribeStatus_SubscriberLimitReached_Overloaded()
    {
        await using var h = await HubHarness.StartAsync(FastFeed(new() { ["Aicp:Dashboard:MaxSubscribers"] = "1" }));
        await using var first = await StatusSubscriber.ConnectAsync(h);
        await first.SubscribeAsync(new StatusView());
        await first.SubscribeAsync(new StatusView { AgentPage = 1 }); // a view change is not a second subscription

        await using var second = await StatusSubscriber.ConnectAsync(h);
        var refused = await Assert.ThrowsAsync<HubException>(() => second.SubscribeAsync(new StatusView()));
        Assert.Contains("overloaded:", refused.Message);
    }

    [Fact]
    public async Task Dashboard_Get_ServesThePageWithItsSecurityHeaders()
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = h.Hub.BaseUrl };

        var redirect = await http.GetAsync("/dashboard").DefaultTimeout();
        Assert.Equal(System.Net.HttpStatusCode.MovedPermanently, redirect.StatusCode);
        Assert.Equal("/dashboard/", new Uri(h.Hub.BaseUrl, redirect.Headers.Location!).AbsolutePath);

        var page = await http.GetAsync("/dashboard/").DefaultTimeout();
        Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode); // open: the page holds no data
        Assert.Contains("<title>AICP Hub dashboard</title>", await page.Content.ReadAsStringAsync().DefaultTimeout());
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/dashboard/dashboard.js").DefaultTimeout()).StatusCode);
    }
}
