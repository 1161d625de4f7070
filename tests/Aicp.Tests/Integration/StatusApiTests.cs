using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Hub.Observability;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;

namespace Aicp.Tests.Integration;

/// <summary>Health, readiness and the status API (HTTP and hub methods) against state the test created.</summary>
public sealed class StatusApiTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static Dictionary<string, string?> ExpectTextEmbed() => new() { ["Aicp:ExpectedCapabilities:0"] = "text.embed" };

    [Fact]
    public async Task StatusEndpoints_AfterTraffic_ReportAgentsCapabilitiesRoutesAndCapacity()
    {
        await using var h = await HubHarness.StartAsync(ExpectTextEmbed());
        await h.StartAgentAsync("a1", HubHarness.Echo("a1"), maxConcurrency: 4);
        await h.StartAgentAsync("a2", HubHarness.Echo("a2"), maxConcurrency: 2);
        var client = await h.StartClientAsync();
        var results = new List<TaskResult>();
        for (var i = 0; i < 10; i++)
        {
            results.Add(await client.SubmitAsync("image.label", new { i }, new SubmitOptions { Strategy = new RoutingStrategy("round-robin") }).DefaultTimeout());
        }

        Assert.All(results, r => Assert.Equal(TaskStatuses.Completed, r.Status));
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };

        var agents = await http.GetFromJsonAsync<List<AgentStatus>>("/v1/agents", Web).DefaultTimeout();
        Assert.NotNull(agents);
        Assert.Equal(["a1", "a2"], agents.Select(a => a.Id));
        Assert.Equal([4, 2], agents.Select(a => a.MaxConcurrency));
        Assert.All(agents, a =>
        {
            Assert.Equal(["image.label"], a.Capabilities);
            Assert.Equal(0, a.Pending);
            Assert.Equal(5, a.Completed);
            Assert.Equal(1.0, a.SuccessRate);
            Assert.Equal("closed", a.CircuitState);
            Assert.True(a.Healthy);
            Assert.True(a.LatencyMs.ContainsKey("image.label"));
            Assert.NotNull(a.LastCompletion);
            Assert.True(a.ConnectedAt <= a.LastCompletion);
            Assert.InRange(a.Trust, 0.5, 1);
        });

        var capabilities = await http.GetFromJsonAsync<List<CapabilityStatus>>("/v1/capabilities", Web).DefaultTimeout();
        var label = Assert.Single(capabilities!, c => c.Method == "image.label");
        Assert.Equal((2, 2, 0, 6, "adaptive", false), (label.Agents, label.HealthyAgents, label.QueueDepth, label.CapacitySlots, label.DefaultStrategy, label.Expected));
        var embed = Assert.Single(capabilities!, c => c.Method == "text.embed");
        Assert.Equal((0, 0, true), (embed.Agents, embed.HealthyAgents, embed.Expected));

        var routes = await http.GetFromJsonAsync<List<RouteRecord>>("/v1/routes?limit=4", Web).DefaultTimeout();
        Assert.Equal(4, routes!.Count);
        Assert.Equal(results.TakeLast(4).Reverse().Select(r => r.TaskId), routes.Select(r => r.TaskId));
        Assert.Equal(results.TakeLast(4).Reverse().Select(r => r.AgentId), routes.Select(r => r.AgentId));
        Assert.True(routes.Zip(routes.Skip(1)).All(p => p.First.Sequence == p.Second.Sequence + 1));
        Assert.All(routes, r =>
        {
            Assert.Equal(("image.label", "round-robin", AttemptOutcomes.Completed, 1), (r.Method, r.Strategy, r.Outcome, r.Attempt));
            Assert.InRange(r.Candidates, 1, 2);
            Assert.InRange(r.Inputs.Trust, 0, 1);
        });
        Assert.Equal(10, (await http.GetFromJsonAsync<List<RouteRecord>>("/v1/routes", Web).DefaultTimeout())!.Count);

        var capacity = await http.GetFromJsonAsync<List<CapacityPlan>>("/v1/capacity", Web).DefaultTimeout();
        var plan = Assert.Single(capacity!, c => c.Method == "image.label");
        Assert.Equal((2, 6, 0.7), (plan.Agents, plan.CapacitySlots, plan.TargetUtilization));
        Assert.True(plan.ArrivalRatePerSecond > 0);
        Assert.True(plan.MeanServiceSeconds > 0);
        Assert.True(plan.AgentsNeeded >= 1);
        Assert.Equal(plan.AgentsNeeded - plan.Agents, plan.AgentDelta);
        Assert.Equal(CapacityPlanner.AdviceIdle, Assert.Single(capacity!, c => c.Method == "text.embed").Advice);

        using var stats = JsonDocument.Parse(await http.GetStringAsync("/v1/stats").DefaultTimeout());
        Assert.Equal(10, stats.RootElement.GetProperty("tasks").GetProperty("completed").GetInt64());
        Assert.Equal(2, stats.RootElement.GetProperty("agents").GetInt32());
    }

    [Fact]
    public async Task HealthAndStatus_InMemoryTestServer_LiveNotReadyAndTheExpectedCapabilityListed()
    {
        // No socket needed for plain HTTP: Mvc.Testing's in-memory server runs the same Program.
        await using var factory = new HubFactory(ExpectTextEmbed());
        using var http = factory.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz").DefaultTimeout()).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/readyz").DefaultTimeout()).StatusCode);
        var capabilities = await http.GetFromJsonAsync<List<CapabilityStatus>>("/v1/capabilities", Web).DefaultTimeout();
        var embed = Assert.Single(capabilities!);
        Assert.Equal(("text.embed", 0, true), (embed.Method, embed.Agents, embed.Expected));
    }

    [Fact]
    public async Task Readyz_ExpectedCapabilityWithoutAgents_UnavailableUntilAnAgentServesIt()
    {
        await using var h = await HubHarness.StartAsync(ExpectTextEmbed());
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };

        using (var live = await http.GetAsync("/healthz").DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            Assert.Equal("Healthy", JsonDocument.Parse(await live.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
        }

        using (var notReady = await http.GetAsync("/readyz").DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            using var body = JsonDocument.Parse(await notReady.Content.ReadAsStringAsync());
            Assert.Equal("Unhealthy", body.RootElement.GetProperty("status").GetString());
            var missing = body.RootElement.GetProperty("checks").GetProperty("capabilities").GetProperty("data").GetProperty("capabilitiesWithoutHealthyAgents");
            Assert.Equal(["text.embed"], missing.EnumerateArray().Select(e => e.GetString()));
        }

        await h.StartAgentAsync("embedder", HubHarness.Echo("embedder"), method: "text.embed");
        using (var ready = await http.GetAsync("/readyz").DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("Healthy", JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task Readyz_SeenCapabilityLosesItsAgent_DegradedButStillReady()
    {
        await using var h = await HubHarness.StartAsync();
        var agent = await h.StartAgentAsync("a1", HubHarness.Echo("a1"));
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz").DefaultTimeout()).StatusCode);

        await agent.StopAsync().DefaultTimeout();
        await TestTimeouts.Eventually(() => h.Registry.Count == 0, "agent gone");

        using var degraded = await http.GetAsync("/readyz").DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, degraded.StatusCode);
        using var body = JsonDocument.Parse(await degraded.Content.ReadAsStringAsync());
        Assert.Equal("Degraded", body.RootElement.GetProperty("status").GetString());
        Assert.Contains("image.label", body.RootElement.GetProperty("checks").GetProperty("capabilities").GetProperty("data")
            .GetProperty("capabilitiesWithoutHealthyAgents").EnumerateArray().Select(e => e.GetString()));
    }

    [Theory]
    [InlineData(HubProtocol.Json)]
    [InlineData(HubProtocol.MessagePack)]
    public async Task HubStatusMethods_SameStateAsHttp_ReturnTheSameRecords(HubProtocol protocol)
    {
        await using var h = await HubHarness.StartAsync(ExpectTextEmbed(), protocol: protocol);
        await h.StartAgentAsync("a1", HubHarness.Echo("a1"), maxConcurrency: 3);
        var client = await h.StartClientAsync();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(TaskStatuses.Completed, (await client.SubmitAsync("image.label", null).DefaultTimeout()).Status);
        }

        await using var connection = new ResilientHubConnection(new AicpConnectionOptions { HubUrl = h.Hub.BaseUrl.ToString(), Protocol = protocol },
            _ => { }, (_, _) => Task.CompletedTask, null);
        await connection.StartAsync(CancellationToken.None).DefaultTimeout();
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };

        var agents = await connection.Connection.InvokeAsync<List<AgentStatus>>("GetAgents").DefaultTimeout();
        var httpAgents = await http.GetFromJsonAsync<List<AgentStatus>>("/v1/agents", Web).DefaultTimeout();
        Assert.Equal(Normalize(httpAgents!), Normalize(agents));
        Assert.Equal(3, Assert.Single(agents).Completed);

        var capabilities = await connection.Connection.InvokeAsync<List<CapabilityStatus>>("GetCapabilities").DefaultTimeout();
        Assert.Equal(await http.GetFromJsonAsync<List<CapabilityStatus>>("/v1/capabilities", Web).DefaultTimeout(), capabilities);
        Assert.Equal(["image.label", "text.embed"], capabilities.Select(c => c.Method));

        var routes = await connection.Connection.InvokeAsync<List<RouteRecord>>("GetRoutes", 2).DefaultTimeout();
        Assert.Equal(
            (await http.GetFromJsonAsync<List<RouteRecord>>("/v1/routes?limit=2", Web).DefaultTimeout())!.Select(r => (r.Sequence, r.TaskId, r.AgentId)),
            routes.Select(r => (r.Sequence, r.TaskId, r.AgentId)));
        Assert.Equal([3L, 2L], routes.Select(r => r.Sequence));

        var capacity = await connection.Connection.InvokeAsync<List<CapacityPlan>>("GetCapacity").DefaultTimeout();
        Assert.Equal(["image.label", "text.embed"], capacity.Select(c => c.Method));
        Assert.Equal(3, capacity[0].CapacitySlots);
    }

    // Records hold collections: compare them by their JSON.
    private static string Normalize(List<AgentStatus> agents) => JsonSerializer.Serialize(agents, Web);
}
