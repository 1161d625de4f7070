using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;

namespace Aicp.SampleAgents.QuickStart;

/// <summary>The request of the README's example capability <c>math.sum</c>.</summary>
public sealed record Sum(int[] Numbers);

/// <summary>Its result.</summary>
public sealed record Total(int Value);

/// <summary>
/// The code of README.md's "Using the SDK", compiled here and run by a test against a real hub; the README shows the
/// lines between the <c>README</c> markers, and a test checks that they are the same.
/// </summary>
public static class QuickStart
{
    public static async Task<Total> RunAsync(string hubUrl)
    {
        // README begin
        await using var agent = new AicpAgent(new AgentOptions { HubUrl = hubUrl, AgentId = "adder-1", MaxConcurrency = 8 });
        agent.Handle<Sum, Total>("math.sum", (request, task, ct) => ValueTask.FromResult(new Total(request.Numbers.Sum())));
        await agent.StartAsync(); // returns once registered; reconnects by itself afterwards

        await using var client = new AicpTaskClient(new AicpConnectionOptions { HubUrl = hubUrl, Protocol = HubProtocol.MessagePack });
        var total = await client.SubmitAsync<Sum, Total>("math.sum", new Sum([1, 2, 3]),
            new SubmitOptions { Strategy = RoutingStrategy.LeastLoaded, Timeout = TimeSpan.FromSeconds(5) });
        // total.Value == 6; a task that does not complete throws AicpTaskFailedException (status, code, route)

        await agent.StopAsync(); // drain: no new tasks, in-flight ones finish, then disconnect
        // README end
        return total;
    }
}
