using System.Net;
using Aicp.Hub.Security;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Integration.Security;

/// <summary><c>/metrics</c> is protectable (credential, loopback or open) and counts security events by kind.</summary>
public sealed class MetricsAccessTests
{
    [Theory]
    [InlineData(null, null, HttpStatusCode.Unauthorized)]
    [InlineData(null, AicpRoles.Agent, HttpStatusCode.Forbidden)]
    [InlineData(null, AicpRoles.Submitter, HttpStatusCode.Forbidden)]
    [InlineData(null, AicpRoles.Metrics, HttpStatusCode.OK)]
    [InlineData(null, AicpRoles.Admin, HttpStatusCode.OK)]
    [InlineData("Credential", null, HttpStatusCode.Unauthorized)]
    [InlineData("Loopback", null, HttpStatusCode.OK)]
    [InlineData("Loopback", AicpRoles.Submitter, HttpStatusCode.OK)]
    [InlineData("Open", null, HttpStatusCode.OK)]
    public async Task Metrics_ByAccessModeAndRole_Expected(string? mode, string? role, HttpStatusCode expected)
    {
        var settings = mode is null ? TestCredentials.Secured() : TestCredentials.Secured(new() { ["Aicp:Security:MetricsAccess"] = mode });
        await using var h = await HubHarness.StartAsync(settings);
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        if (role is not null)
        {
            request.Headers.Authorization = new("Bearer", TestCredentials.KeyOfRole[role]);
        }

        using var response = await http.SendAsync(request).DefaultTimeout();

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.OK)
        {
            Assert.Contains("aicp_tasks_submitted_total", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Metrics_OpenMode_AnswersWithoutCredential()
    {
        await using var h = await HubHarness.StartAsync();
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };

        using var response = await http.GetAsync("/metrics").DefaultTimeout();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task SecurityEvents_FreshHub_EveryKindExportedAtZero()
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());

        var scrape = await MetricsScrape.FetchAsync(h.Hub.BaseUrl, TestCredentials.MetricsKey);

        foreach (var kind in SecurityEventKinds.Labels)
        {
            Assert.Equal(0, scrape.Value($"aicp_security_events_total{{kind=\"{kind}\"}}"));
        }

        Assert.Equal(SecurityEventKinds.Labels.Length, scrape.Samples.Keys.Count(k => k.StartsWith("aicp_security_events_total{", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task SecurityEvents_RefusedAuthenticationsAndRoles_CountedAndLoggedWithEventIds()
    {
        var logs = new CapturingLoggerProvider();
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured(), logs: logs);
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };

        await RawUpgrade.StatusAsync(h.Hub.BaseUrl, "not-a-key");                    // 401 at the hub endpoint
        await RawUpgrade.StatusAsync(h.Hub.BaseUrl, TestCredentials.Jwt(DateTime.UtcNow.AddMinutes(-5), "late", "agent")); // expired JWT
        using (await http.GetAsync("/v1/agents").DefaultTimeout())                    // 401, no credential
        {
        }

        using var forbidden = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = new("Bearer", TestCredentials.SubmitterKey) } };
        using (await http.SendAsync(forbidden).DefaultTimeout())                     // 403
        {
        }

        var scrape = await MetricsScrape.FetchAsync(h.Hub.BaseUrl, TestCredentials.AdminKey);
        Assert.Equal(3, scrape.Value("aicp_security_events_total{kind=\"authentication_failed\"}"));
        Assert.Equal(1, scrape.Value("aicp_security_events_total{kind=\"role_refused\"}"));
        Assert.Equal(3, logs.Entries.Count(e => e.EventId.Id == 4001));
        Assert.Single(logs.Entries, e => e.EventId.Id == 4002 && e.Message.Contains("GET /metrics", StringComparison.Ordinal));
        Assert.Contains(logs.Entries, e => e.EventId.Id == 4001 && e.Message.Contains("unknown API key", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("not-a-key", StringComparison.Ordinal)); // a presented secret is never logged
    }
}
