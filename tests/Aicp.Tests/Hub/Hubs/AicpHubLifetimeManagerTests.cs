using System.Text.Json;
using Aicp.Agent.Sdk.Connection;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Hubs;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;

namespace Aicp.Tests.Hub.Hubs;

/// <summary>The hub's lifetime manager knows every live connection, so assignments are written to it directly.</summary>
public sealed class AicpHubLifetimeManagerTests
{
    [Theory]
    [InlineData(HubProtocol.Json)]
    [InlineData(HubProtocol.MessagePack)]
    public async Task AgentConnection_IsReachableWhileConnected_AndForgottenWhenItLeaves(HubProtocol protocol)
    {
        await using var h = await HubHarness.StartAsync(protocol: protocol);
        var lifetime = Assert.IsType<AicpHubLifetimeManager>(h.Hub.Services.GetRequiredService<HubLifetimeManager<AicpHub>>());
        Assert.True(Assert.IsType<SignalRAgentChannel>(h.Hub.Services.GetRequiredService<IAgentChannel>()).WritesDirectly);
        var agent = await h.StartAgentAsync("direct-1", (task, _) => ValueTask.FromResult(JsonSerializer.SerializeToElement(new { echoed = task.Attempt })));
        var connectionId = h.Registry.GetById("direct-1")!.ConnectionId;

        Assert.True(lifetime.TryGetConnection(connectionId, out var connection));
        Assert.Equal(connectionId, connection.ConnectionId);

        // Assignments reach the agent over the direct write; 20 tasks, 20 completions.
        var client = await h.StartClientAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.SubmitAsync("image.label", new { n = 1 }))).DefaultTimeout();
        Assert.All(results, r => Assert.Equal(TaskStatuses.Completed, r.Status));

        await agent.StopAsync().DefaultTimeout();
        await TestTimeouts.Eventually(() => !lifetime.TryGetConnection(connectionId, out _), "the agent's connection to be forgotten");
        await h.AssertNothingPendingAsync();
    }
}
