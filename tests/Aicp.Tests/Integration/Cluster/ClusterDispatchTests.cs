using System.Text;
using System.Text.Json;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Aicp.Tests.Integration.Cluster;

/// <summary>
/// Dispatch across hub nodes on a real redis-server on loopback: a submitter on any node reaches an agent on any other,
/// the owner node alone takes the agent's slots (maxConcurrency never exceeded under submitters on every node), an
/// attempt on a node that goes away fails over at once, a submitter that goes away has its task cancelled on the owner's agent, and foreign messages on a
/// node's inbox are dropped and counted.
/// </summary>
[Collection(SoloCollection.Name)]
public sealed class ClusterDispatchTests
{
    private static Dictionary<string, string?> Node(RedisServer redis, string node) => new()
    {
        ["Aicp:Cluster:Redis"] = redis.Endpoint, ["Aicp:Cluster:NodeId"] = node,
        ["Aicp:Cluster:HeartbeatInterval"] = "00:00:00.2", ["Aicp:Cluster:NodeTtl"] = "00:00:01",
    };

    /// <summary>Waits until <paramref name="h"/>'s cluster view shows <paramref name="agentId"/> on another node.</summary>
    private static Task SeesAsync(HubHarness h, string agentId) => TestTimeouts.EventuallyAsync(async () =>
    {
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };
        var view = JsonDocument.Parse(await http.GetStringAsync("/v1/cluster")).RootElement;
        return view.GetProperty("nodes").EnumerateArray().Any(n => !n.GetProperty("self").GetBoolean()
            && n.GetProperty("agents").EnumerateArray().Any(a => a.GetProperty("id").GetString() == agentId));
    }, $"{agentId} in the view");

    [Fact]
    public async Task Submit_CapabilityOnAnotherNode_RunsThereInEveryDirection()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var one = await HubHarness.StartAsync(Node(redis, "node-1"));
        await using var two = await HubHarness.StartAsync(Node(redis, "node-2"));
        await one.StartAgentAsync("labeller", HubHarness.Echo("labeller"));
        await two.StartAgentAsync("chatter", HubHarness.Echo("chatter"), method: "text.chat");
        await SeesAsync(two, "labeller");
        await SeesAsync(one, "chatter");
        var onOne = await one.StartClientAsync();
        var onTwo = await two.StartClientAsync();

        var there = await onTwo.SubmitAsync("image.label", new { n = 1 }).DefaultTimeout();
        var back = await onOne.SubmitAsync("text.chat", new { n = 2 }).DefaultTimeout();
        var local = await onOne.SubmitAsync("image.label", new { n = 3 }).DefaultTimeout();

        Assert.Equal((TaskStatuses.Completed, "labeller", 1), (there.Status, there.AgentId, there.Attempts));
        Assert.Equal(("labeller", "node-1", AttemptOutcomes.Completed), (there.Route[0].AgentId, there.Route[0].Node, there.Route[0].Outcome));
        Assert.Equal("labeller", there.Result!.Json.GetProperty("agent").GetString());
        Assert.Equal((TaskStatuses.Completed, "chatter", "node-2"), (back.Status, back.AgentId, back.Route[0].Node));
        Assert.Null(local.Route[0].Node); // this node's own agent
        Assert.Equal(0, one.Dispatcher.InFlightCount);
        Assert.Equal(0, one.Registry.GetById("labeller")!.Pending);
    }

    /// <summary>Waits until <paramref name="h"/>'s cluster view shows <paramref name="agentId"/> with <paramref name="pending"/> tasks.</summary>
    private static Task SeesPendingAsync(HubHarness h, string agentId, int pending) => TestTimeouts.EventuallyAsync(async () =>
    {
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };
        var view = JsonDocument.Parse(await http.GetStringAsync("/v1/cluster")).RootElement;
        return view.GetProperty("nodes").EnumerateArray().SelectMany(n => n.GetProperty("agents").EnumerateArray())
            .Any(a => a.GetProperty("id").GetString() == agentId && a.GetProperty("pending").GetInt32() == pending);
    }, $"{agentId} with {pending} pending in the view");

    [Fact]
    public async Task Submit_AnotherNodesAgentLessLoaded_ChosenOverTheBusyLocalOne_UnlessPreferLocal()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var one = await HubHarness.StartAsync(Node(redis, "node-1"));
        await using var two = await HubHarness.StartAsync(Node(redis, "node-2"));
        await using var three = await HubHarness.StartAsync(new Dictionary<string, string?>(Node(redis, "node-3")) { ["Aicp:Cluster:PreferLocal"] = "true" });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<Agent.Sdk.Agent.AgentTaskContext, CancellationToken, ValueTask<JsonElement>> HoldFirst(string id)
        {
            var calls = 0;
            return async (task, ct) =>
            {
                if (Interlocked.Increment(ref calls) == 1)
                {
                    await gate.Task.WaitAsync(ct);
                }

                return JsonSerializer.SerializeToElement(new { agent = id });
            };
        }

        await one.StartAgentAsync("busy-1", HoldFirst("busy-1"), maxConcurrency: 2);
        await three.StartAgentAsync("busy-3", HoldFirst("busy-3"), maxConcurrency: 2);
        var onOne = await one.StartClientAsync();
        var onThree = await three.StartClientAsync();
        var options = new Agent.Sdk.Client.SubmitOptions { Timeout = TimeSpan.FromSeconds(30) };
        var heldOnOne = onOne.SubmitAsync("image.label", null, options);
        await TestTimeouts.Eventually(() => one.Registry.GetById("busy-1")!.Pending == 1, "busy-1 holds a task");
        var heldOnThree = onThree.SubmitAsync("image.label", null, options);
        await TestTimeouts.Eventually(() => three.Registry.GetById("busy-3")!.Pending == 1, "busy-3 holds a task");
        await two.StartAgentAsync("idle", HubHarness.Echo("idle"), maxConcurrency: 2);
        await SeesPendingAsync(one, "idle", 0);
        await SeesPendingAsync(one, "busy-3", 1);
        await SeesPendingAsync(three, "idle", 0);

        var fromOne = await onOne.SubmitAsync("image.label", null, options).DefaultTimeout();
        var fromThree = await onThree.SubmitAsync("image.label", null, options).DefaultTimeout();

        Assert.Equal(("idle", "node-2"), (fromOne.AgentId, fromOne.Route[0].Node)); // 0/2 beats the local 1/2
        Assert.Equal("busy-3", fromThree.AgentId); // PreferLocal: busy-3 has a free slot
        Assert.Null(fromThree.Route[0].Node);
        gate.SetResult();
        Assert.Equal(["busy-1", "busy-3"], (await Task.WhenAll(heldOnOne, heldOnThree).DefaultTimeout()).Select(r => r.AgentId));
    }

    /// <summary>Whether the MessagePack map <paramref name="payload"/> holds a <c>bin</c> (not a string) under <paramref name="key"/>.</summary>
    private static bool IsBin(TaskPayload payload, string key)
    {
        if (!payload.IsMessagePack)
        {
            return false;
        }

        var reader = new MessagePack.MessagePackReader(payload.MessagePack);
        for (var n = reader.ReadMapHeader(); n > 0; n--)
        {
            if (string.Equals(reader.ReadString(), key, StringComparison.OrdinalIgnoreCase))
            {
                return reader.NextMessagePackType == MessagePack.MessagePackType.Binary;
            }

            reader.Skip();
        }

        return false;
    }

    [Fact]
    public async Task Submit_MessagePackBinOnAnotherNode_ArrivesAsABinAndTheResultComesBackAsOne()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var one = await HubHarness.StartAsync(Node(redis, "node-1"), protocol: HubProtocol.MessagePack);
        await using var two = await HubHarness.StartAsync(Node(redis, "node-2"), protocol: HubProtocol.MessagePack);
        (bool Bin, byte[]? Image)? seen = null;
        await one.StartAgentAsync<object>("labeller", (task, _) =>
        {
            seen = (IsBin(task.Payload!, "image"), task.TryGetBinary("image", out var image) ? image.ToArray() : null);
            return ValueTask.FromResult<object>(new { Echo = image.ToArray() });
        });
        await SeesAsync(two, "labeller");
        var client = await two.StartClientAsync();
        var image = Enumerable.Range(0, 4096).Select(i => (byte)(i * 7)).ToArray();

        var result = await client.SubmitAsync("image.label", new { Image = image }).DefaultTimeout();

        Assert.Equal((TaskStatuses.Completed, "node-1"), (result.Status, result.Route[0].Node));
        Assert.True(seen!.Value.Bin); // not converted to JSON on its way across (a bin would have become base64 text)
        Assert.Equal(image, seen.Value.Image);
        Assert.True(IsBin(result.Result!, "echo"));
        Assert.True(result.TryGetResultBinary("echo", out var echoed));
        Assert.Equal(image, echoed.ToArray());
    }

    [Theory]
    [InlineData(HubProtocol.Json)]
    [InlineData(HubProtocol.MessagePack)]
    public async Task SubmitStream_AgentOnAnotherNode_EveryChunkInOrderThenOneResult(HubProtocol protocol)
    {
        await using var redis = await RedisServer.StartAsync();
        await using var one = await HubHarness.StartAsync(Node(redis, "node-1"), protocol: protocol);
        await using var two = await HubHarness.StartAsync(Node(redis, "node-2"), protocol: protocol);
        await one.StartAgentAsync<string>("writer", async (task, ct) =>
        {
            var words = task.GetPayload<string>()!.Split(' ');
            foreach (var word in words)
            {
                await task.WriteChunkAsync(word, ct);
            }

            return string.Join(' ', words);
        }, method: "text.chat");
        await SeesAsync(two, "writer");
        var client = await two.StartClientAsync();
        var text = string.Join(' ', Enumerable.Range(0, 200).Select(i => $"w{i}"));

        var stream = client.SubmitStream<string>("text.chat", text);
        var chunks = new List<string>();
        await foreach (var chunk in stream.WithCancellation(CancellationToken.None))
        {
            chunks.Add(chunk);
        }

        var result = await stream.Result.DefaultTimeout();
        Assert.Equal((TaskStatuses.Completed, "node-1", 200L), (result.Status, result.Route[0].Node, one.Counters.StreamChunks));
        var scrape = await MetricsScrape.FetchAsync(two.Hub.BaseUrl);
        Assert.Equal(0, scrape.Sum("aicp_cluster_bad_messages_total"));
        Assert.Equal(text.Split(' '), chunks);
        Assert.Equal(text, result.GetResult<string>());
        Assert.Equal(200, one.Counters.StreamChunks); // taken from the agent on its node, relayed to node-2
        await one.AssertNothingPendingAsync();
        await two.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task SubmitStream_SubmitterLeavesMidStream_TheOwnersAgentIsCancelled()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var one = await HubHarness.StartAsync(Node(redis, "node-1"));
        await using var two = await HubHarness.StartAsync(Node(redis, "node-2"));
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await one.StartAgentAsync<string>("writer", async (task, ct) =>
        {
            try
            {
                for (var i = 0; ; i++)
                {
                    await task.WriteChunkAsync($"w{i}", ct);
                    await Task.Delay(10, ct);
                }
            }
            catch (OperationCanceledException)
            {
                cancelled.TrySetResult();
                throw;
            }
        }, method: "text.chat");
        await SeesAsync(two, "writer");
        var client = await two.StartClientAsync();

        using var stop = new CancellationTokenSource();
        var stream = client.SubmitStream<string>("text.chat", "go");
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in stream.WithCancellation(stop.Token))
            {
                if (++seen == 3)
                {
                    await stop.CancelAsync(); // the submitter stops reading and cancels
                }
            }
        }).DefaultTimeout();

        await cancelled.Task.DefaultTimeout();
        await one.AssertNothingPendingAsync();
        await two.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Submit_SubmittersOnEveryNode_AgentsMaxConcurrencyNeverExceeded()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var one = await HubHarness.StartAsync(Node(redis, "node-1"));
        await using var two = await HubHarness.StartAsync(Node(redis, "node-2"));
        await using var three = await HubHarness.StartAsync(Node(redis, "node-3"));
        var running = 0;
        var most = 0;
        await one.StartAgentAsync("only", async (task, ct) =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            await Task.Delay(5, ct);
            Interlocked.Decrement(ref running);
            return JsonSerializer.SerializeToElement(1);
        }, maxConcurrency: 2);
        await SeesAsync(two, "only");
        await SeesAsync(three, "only");
        var clients = new[] { await one.StartClientAsync(), await two.StartClientAsync(), await three.StartClientAsync() };

        var results = await Task.WhenAll(Enumerable.Range(0, 60).Select(i =>
            clients[i % 3].SubmitAsync("image.label", new { i }, new Agent.Sdk.Client.SubmitOptions { Timeout = TimeSpan.FromSeconds(20) })))
            .WaitAsync(TimeSpan.FromSeconds(60));

        Assert.All(results, r => Assert.Equal(TaskStatuses.Completed, r.Status));
        Assert.InRange(most, 1, 2);
        Assert.Equal(40, results.Count(r => r.Route[0].Node == "node-1")); // the tasks of nodes 2 and 3 crossed over
        Assert.Equal(0, one.Registry.GetById("only")!.Pending);
    }

    [Fact]
    public async Task Submit_OwnerNodeGoesAwayMidAttempt_FailsOverAtOnce()
    {
        await using var redis = await RedisServer.StartAsync();
        var owner = await HubHarness.StartAsync(Node(redis, "node-1"));
        using var logs = new CapturingLoggerProvider(LogLevel.Debug);
        await using var asker = await HubHarness.StartAsync(Node(redis, "node-2"), logs: logs);
        await using var spare = await HubHarness.StartAsync(Node(redis, "node-3"));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await owner.StartAgentAsync("stuck", async (_, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return default;
        });
        await SeesAsync(asker, "stuck");
        var client = await asker.StartClientAsync();
        var pending = client.SubmitAsync("image.label", null, new Agent.Sdk.Client.SubmitOptions { Timeout = TimeSpan.FromSeconds(30) });
        await started.Task.DefaultTimeout();
        await spare.StartAgentAsync("spare", HubHarness.Echo("spare"));
        await SeesAsync(asker, "spare");

        var stopped = DateTime.UtcNow;
        await owner.DisposeAsync();
        TaskResult result;
        try
        {
            result = await pending.DefaultTimeout();
        }
        catch (TimeoutException)
        {
            Assert.Fail("No result; node-2's log: " + string.Join("\n", logs.Entries.Where(e => e.Category.StartsWith("Aicp", StringComparison.Ordinal))
                .Select(e => $"{e.Category} {e.EventId.Id} {e.Message} {e.Exception?.Message}")));
            throw;
        }

        Assert.Equal((TaskStatuses.Completed, "spare", 2), (result.Status, result.AgentId, result.Attempts));
        Assert.Equal([("stuck", "node-1", AttemptOutcomes.Disconnected), ("spare", "node-3", AttemptOutcomes.Completed)],
            result.Route.Select(e => (e.AgentId, e.Node!, e.Outcome)));
        Assert.True(DateTime.UtcNow - stopped < TimeSpan.FromSeconds(10), "failed over long before the 30 s attempt timeout");
        Assert.Equal((1, 0), (asker.Counters.Failovers, spare.Counters.Failovers)); // the failover is the asker's: it owns the task
    }

    [Fact]
    public async Task Submit_SubmitterGoneWhileOnAnotherNode_TheOwnersAgentIsCancelled()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var owner = await HubHarness.StartAsync(Node(redis, "node-1"));
        await using var asker = await HubHarness.StartAsync(Node(redis, "node-2"));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await owner.StartAgentAsync("slow", async (_, ct) =>
        {
            started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                cancelled.TrySetResult();
                throw;
            }

            return default;
        });
        await SeesAsync(asker, "slow");
        var client = new Agent.Sdk.Client.AicpTaskClient(new Agent.Sdk.Connection.AicpConnectionOptions { HubUrl = asker.Hub.BaseUrl.ToString() });

        var pending = client.SubmitAsync("image.label", null);
        await started.Task.DefaultTimeout();
        Assert.Equal((0, 1), await InFlightAsync(asker)); // /v1/stats: the asker's attempt runs on the owner's agent
        Assert.Equal((1, 0), await InFlightAsync(owner));
        await client.DisposeAsync(); // the submitter goes away: the hub cancels its task

        await Assert.ThrowsAnyAsync<Exception>(() => pending.DefaultTimeout());
        await cancelled.Task.DefaultTimeout(); // the cancel crossed to the owner node and reached the agent
        await TestTimeouts.Eventually(() => owner.Registry.GetById("slow")!.Pending == 0 && asker.Dispatcher.InFlightCount == 0, "slots and attempts released");
        Assert.Equal((0, 0), await InFlightAsync(asker));
    }

    /// <summary><c>inFlight</c> and <c>remoteInFlight</c> of <c>GET /v1/stats</c>.</summary>
    private static async Task<(int Local, int Remote)> InFlightAsync(HubHarness h)
    {
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };
        var stats = JsonDocument.Parse(await http.GetStringAsync("/v1/stats").DefaultTimeout()).RootElement;
        return (stats.GetProperty("inFlight").GetInt32(), stats.GetProperty("remoteInFlight").GetInt32());
    }

    [Fact]
    public async Task Inbox_ForeignMessages_DroppedAndCounted_NodeCarriesOn()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var one = await HubHarness.StartAsync(Node(redis, "node-1"));
        await one.StartAgentAsync("a1", HubHarness.Echo("a1"));
        await TestTimeouts.EventuallyAsync(async () => (await MetricsScrape.FetchAsync(one.Hub.BaseUrl)).Value("aicp_cluster_redis_up") == 1, "node-1 on Redis");
        using var client = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
        var inbox = RedisChannel.Literal("aicp:inbox:node-1");
        string[] foreign =
        [
            "garbage",
            """{"type":"execute","from":"node-9","taskId":"abc","attempt":1}""", // no agent, method or timeout
            """{"type":"execute","from":"Bad Node","taskId":"abc","attempt":1,"agentId":"a1","method":"image.label","timeoutMs":100}""",
            """{"type":"launch","from":"node-9","taskId":"abc","attempt":1}""",
            """{"type":"result","from":"node-9","taskId":"abc","attempt":1,"outcome":"maybe"}""",
            """{"type":"cancel","from":"node-9","taskId":"a-b","attempt":1}""",
        ];
        foreach (var message in foreign)
        {
            Assert.Equal(1, await client.GetSubscriber().PublishAsync(inbox, Encoding.UTF8.GetBytes(message)));
        }

        await TestTimeouts.EventuallyAsync(async () => (await MetricsScrape.FetchAsync(one.Hub.BaseUrl)).Value("aicp_cluster_bad_messages_total") == foreign.Length,
            "every foreign message counted");
        Assert.Equal(0, one.Registry.GetById("a1")!.Pending); // nothing ran
        var submitter = await one.StartClientAsync();
        Assert.Equal(TaskStatuses.Completed, (await submitter.SubmitAsync("image.label", null).DefaultTimeout()).Status);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
