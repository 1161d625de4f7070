using Aicp.Hub.Security;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Aicp.Tests.Integration.Security;

/// <summary>Rate limits belong to keys: none unless configured, a key's own limit shared by its connections.</summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task Submit_HubAsShipped_NoRateLimitForAnyone()
    {
        // The hub's own appsettings.json, open mode on loopback: 20,000 submits at once are never rate limited.
        await using var h = await HubHarness.StartAsync();
        var gate = h.Hub.Services.GetRequiredService<HubCallGate>();
        var limiter = h.Hub.Services.GetRequiredService<ConnectionLimiter>();
        var caller = CallerGrants.From(ApiKeyStore.Anonymous("test"), "c1", null, h.Hub.Services.GetRequiredService<ApiKeyStore>().DefaultLimits);

        var refused = Enumerable.Range(0, 20_000).Count(_ => gate.CheckSubmit(caller, "c1", new TaskRequest { Method = "image.label" }) is not null);

        Assert.Equal(0, refused);
        Assert.Null(caller.Limits.RateLimit);
        Assert.Null(caller.Limits.MaxConnections);
        Assert.Null(limiter.Max);
    }

    [Fact]
    public async Task Submit_KeyWithItsOwnLimit_LimitedAcrossItsConnectionsOtherKeysNot()
    {
        var settings = TestCredentials.Secured();
        TestCredentials.AddKey(settings, 9, new TestCredentials.Key("metered", "metered-secret-0009", ["submitter"], RateLimit: (3, 1, 600_000)));
        await using var h = await HubHarness.StartAsync(settings);
        await h.StartAgentAsync("gpu-1", HubHarness.Echo("gpu-1"), accessToken: TestCredentials.AgentKey);
        var metered = await h.StartClientAsync("metered-secret-0009");
        var meteredToo = await h.StartClientAsync("metered-secret-0009");
        var unmetered = await h.StartClientAsync(TestCredentials.SubmitterKey);

        var statuses = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await (i % 2 == 0 ? metered : meteredToo).SubmitAsync("image.label", null).DefaultTimeout()).Status);
        }

        var others = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => unmetered.SubmitAsync("image.label", null))).DefaultTimeout();

        Assert.Equal([TaskStatuses.Completed, TaskStatuses.Completed, TaskStatuses.Completed, TaskStatuses.RateLimited, TaskStatuses.RateLimited], statuses);
        Assert.All(others, r => Assert.Equal(TaskStatuses.Completed, r.Status));
        Assert.Equal(2, h.Counters.Finished(TaskStatuses.RateLimited));
    }

    [Fact]
    public async Task Submit_DefaultLimitConfigured_AppliesToKeysWithoutTheirOwnAndKeyMayOptOut()
    {
        var settings = TestCredentials.Secured(new()
        {
            ["Aicp:Security:RateLimit:TokenLimit"] = "1", ["Aicp:Security:RateLimit:TokensPerPeriod"] = "1",
            ["Aicp:Security:RateLimit:ReplenishmentPeriodMs"] = "600000",
        });
        TestCredentials.AddKey(settings, 9, new TestCredentials.Key("bulk", "bulk-secret-0009", ["submitter"]));
        settings["Aicp:Security:ApiKeys:9:RateLimit:Enabled"] = "false";
        await using var h = await HubHarness.StartAsync(settings);
        var limited = await h.StartClientAsync(TestCredentials.SubmitterKey);
        var bulk = await h.StartClientAsync("bulk-secret-0009");

        var limitedStatuses = new[]
        {
            await limited.SubmitAsync("image.label", null).DefaultTimeout(), await limited.SubmitAsync("image.label", null).DefaultTimeout(),
        };
        var bulkStatuses = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => bulk.SubmitAsync("image.label", null))).DefaultTimeout();

        Assert.Equal([TaskStatuses.NoAgents, TaskStatuses.RateLimited], limitedStatuses.Select(r => r.Status));
        Assert.All(bulkStatuses, r => Assert.Equal(TaskStatuses.NoAgents, r.Status));
    }
}
