using Aicp.Agent.Sdk.Agent;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Integration;

public sealed class LoadReportIntegrationTests
{
    [Fact]
    public async Task ReportLoad_PeriodicReportsWithFilter_HubRecordsLatest()
    {
        await using var h = await HubHarness.StartAsync();
        await using var agent = new AicpAgent(new AgentOptions
        {
            HubUrl = h.Hub.BaseUrl.ToString(), AgentId = "reporter", MaxConcurrency = 6,
            LoadReportInterval = TimeSpan.FromMilliseconds(50),
            LoadReportFilter = r => new AgentLoadReport { QueueDepth = 7, FreeSlots = r.FreeSlots, Gpus = r.Gpus },
        });
        agent.Handle("image.label", HubHarness.Echo("reporter"));
        await agent.StartAsync().DefaultTimeout();

        await TestTimeouts.Eventually(() => h.Registry.GetById("reporter")?.ReportedLoad is not null, "a load report to arrive");
        var load = h.Registry.GetById("reporter")!.ReportedLoad!.Report;
        Assert.Equal(7, load.QueueDepth);
        Assert.Equal(6, load.FreeSlots);
        Assert.Null(load.Gpus); // no NVIDIA driver on the test machine

        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };
        using var agents = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/v1/agents").DefaultTimeout());
        var reported = agents.RootElement.EnumerateArray().Single(a => a.GetProperty("id").GetString() == "reporter").GetProperty("reportedLoad");
        Assert.Equal(7, reported.GetProperty("queueDepth").GetInt32());
        Assert.Equal(6, reported.GetProperty("freeSlots").GetInt32());
    }

    [Fact]
    public async Task ReportLoad_FromUnregisteredConnectionOrNegative_Refused()
    {
        await using var h = await HubHarness.StartAsync();
        var agent = await h.StartAgentAsync("a1", HubHarness.Echo("a1"));
        Assert.False(await agent.ReportLoadAsync(new AgentLoadReport { QueueDepth = -1 }).DefaultTimeout());
        Assert.True(await agent.ReportLoadAsync(new AgentLoadReport { QueueDepth = 3 }).DefaultTimeout());
        Assert.Equal(3, h.Registry.GetById("a1")!.ReportedLoad!.Report.QueueDepth);
    }
}
