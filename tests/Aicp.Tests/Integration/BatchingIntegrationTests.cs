using System.Collections.Concurrent;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Batching;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Integration;

public sealed class BatchingIntegrationTests
{
    [Fact]
    public async Task Submit_ConcurrentTasksToBatchingAgent_GatheredIntoBatchesEachWithOwnResult()
    {
        await using var h = await HubHarness.StartAsync();
        var sizes = new ConcurrentQueue<int>();
        await using var agent = new AicpAgent(new AgentOptions { HubUrl = h.Hub.BaseUrl.ToString(), AgentId = "batcher", MaxConcurrency = 16 });
        agent.HandleBatch<JsonElement, object>("image.label", (batch, _) =>
        {
            sizes.Enqueue(batch.Count);
            foreach (var item in batch)
            {
                var n = item.Request.GetProperty("n").GetInt32();
                if (n % 5 == 0)
                {
                    item.Fail("invalid_image", $"image {n} is invalid");
                }
                else
                {
                    item.Succeed(new { n, square = n * n });
                }
            }

            return ValueTask.CompletedTask;
        }, new BatchOptions { MaxBatchSize = 8, MaxWait = TimeSpan.FromMilliseconds(50) });
        await agent.StartAsync().DefaultTimeout();

        var client = await h.StartClientAsync();
        var results = await Task.WhenAll(Enumerable.Range(1, 40).Select(n =>
            client.SubmitAsync("image.label", new { n }, new Aicp.Agent.Sdk.Client.SubmitOptions { MaxAttempts = 1 }))).DefaultTimeout();

        for (var n = 1; n <= 40; n++)
        {
            var r = results[n - 1];
            if (n % 5 == 0)
            {
                Assert.Equal(TaskStatuses.Failed, r.Status);
                Assert.Equal("invalid_image", r.Error!.Code);
            }
            else
            {
                Assert.Equal(TaskStatuses.Completed, r.Status);
                Assert.Equal(n * n, r.Result!.Json.GetProperty("square").GetInt32());
            }
        }

        Assert.Equal(40, sizes.Sum());
        Assert.All(sizes, s => Assert.InRange(s, 1, 8));
        Assert.True(sizes.Max() > 1, "no batch held more than one task");
        await h.AssertNothingPendingAsync();
    }
}
