using Aicp.Hub.Hubs;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;

namespace Aicp.Tests.Hub.Hubs;

/// <summary>
/// The hub objects come from one singleton activator: no scoped activator and no per-invocation service look-ups, and
/// a new hub object for every invocation all the same.
/// </summary>
public sealed class AicpHubActivatorTests
{
    [Fact]
    public async Task Activator_OneForEveryScope_NewHubPerCreate_InvocationsServed()
    {
        await using var h = await HubHarness.StartAsync();
        using var first = h.Hub.Services.CreateScope();
        using var second = h.Hub.Services.CreateScope();

        var activator = Assert.IsType<AicpHubActivator>(first.ServiceProvider.GetRequiredService<IHubActivator<AicpHub>>());
        Assert.Same(activator, second.ServiceProvider.GetRequiredService<IHubActivator<AicpHub>>());
        var one = activator.Create();
        var two = activator.Create();
        Assert.NotSame(one, two);
        activator.Release(one);
        activator.Release(two);

        await h.StartAgentAsync("activated-1", HubHarness.Echo("activated-1"));
        var client = await h.StartClientAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => client.SubmitAsync("image.label", null))).DefaultTimeout();
        Assert.All(results, r => Assert.Equal((TaskStatuses.Completed, "activated-1"), (r.Status, r.AgentId)));
    }
}
