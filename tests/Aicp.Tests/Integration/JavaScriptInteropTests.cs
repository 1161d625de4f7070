using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Integration;

/// <summary>The official JavaScript SignalR client (npm @microsoft/signalr, with and without MessagePack) as agent and submitter.</summary>
public sealed class JavaScriptInteropTests
{
    private static async Task<NodeClient> StartJsAgentAsync(HubHarness h, string id, string behaviour, string capability = "js.work")
    {
        var node = NodeClient.Start("agent", h.Hub.BaseUrl.ToString(), JsProtocol(h), id, capability, behaviour);
        var line = await node.ReadLineAsync();
        Assert.StartsWith("registered ", line);
        Assert.True(JsonDocument.Parse(line["registered ".Length..]).RootElement.GetProperty("accepted").GetBoolean());
        return node;
    }

    /// <summary>The protocol's name as tests/interop/client.mjs takes it.</summary>
    private static string JsProtocol(HubHarness h) => h.Protocol == HubProtocol.MessagePack ? "messagepack" : "json";

    private static async Task<List<TaskResult>> JsSubmitAsync(HubHarness h, string method, int count, string? strategy = null, int? bytes = null)
    {
        string[] args = ["submit", h.Hub.BaseUrl.ToString(), JsProtocol(h), method, count.ToString(), strategy ?? "-"];
        await using var node = NodeClient.Start(bytes is { } b ? [.. args, b.ToString()] : args);
        var lines = await node.ReadUntilAsync("done");
        return [.. lines.Select(l => JsonSerializer.Deserialize<TaskResult>(l, Wire.Options)!)];
    }

    [Theory]
    [InlineData(HubProtocol.MessagePack)]
    [InlineData(HubProtocol.Json)]
    public async Task JsAgent_DotNetSubmitter_CompletesWithPayloadEchoed(HubProtocol protocol)
    {
        await using var h = await HubHarness.StartAsync(protocol: protocol);
        await using var js = await StartJsAgentAsync(h, "js-agent", "echo");
        var client = await h.StartClientAsync();

        for (var i = 0; i < 20; i++)
        {
            var result = await client.SubmitAsync("js.work", new { index = i, nested = new { ok = true } }).DefaultTimeout();
            Assert.Equal(TaskStatuses.Completed, result.Status);
            Assert.Equal("js-agent", result.AgentId);
            var echo = result.Result!.Json.GetProperty("echo");
            Assert.Equal(i, echo.GetProperty("index").GetInt32());
            Assert.True(echo.GetProperty("nested").GetProperty("ok").GetBoolean());
        }

        await h.AssertNothingPendingAsync();
    }

    [Theory]
    [InlineData(HubProtocol.MessagePack)]
    [InlineData(HubProtocol.Json)]
    public async Task JsSubmitter_DotNetAgent_EveryTaskCompleted(HubProtocol protocol)
    {
        await using var h = await HubHarness.StartAsync(protocol: protocol);
        await h.StartAgentAsync("dotnet-agent", (task, _) => ValueTask.FromResult(JsonSerializer.SerializeToElement(new
        {
            index = task.Payload!.Json.GetProperty("index").GetInt32(),
            text = task.Payload!.Json.GetProperty("text").GetString(),
        })), method: "js.work");

        var results = await JsSubmitAsync(h, "js.work", 25);

        Assert.Equal(25, results.Count);
        Assert.All(results, r => Assert.Equal(TaskStatuses.Completed, r.Status));
        Assert.Equal(Enumerable.Range(0, 25), results.Select(r => r.Result!.Json.GetProperty("index").GetInt32()).Order());
        Assert.All(results, r => Assert.Equal($"task {r.Result!.Json.GetProperty("index").GetInt32()}", r.Result!.Json.GetProperty("text").GetString()));
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task JsSubmitter_BinaryPayloadOverMessagePack_ArrivesIntact()
    {
        await using var h = await HubHarness.StartAsync(protocol: HubProtocol.MessagePack);
        await using var js = await StartJsAgentAsync(h, "js-bytes", "bytes", "blob.sum");
        const int size = 64 * 1024;

        var results = await JsSubmitAsync(h, "blob.sum", 4, bytes: size);

        Assert.Equal(4, results.Count);
        foreach (var result in results)
        {
            Assert.Equal(TaskStatuses.Completed, result.Status);
            var index = result.Result!.Json.GetProperty("length").GetInt32() == size ? 0 : -1;
            Assert.Equal(0, index);

            // The hub passes the submitter's bin through: the JS agent gets a Uint8Array, not a base64 string.
            Assert.Equal("bin", result.Result!.Json.GetProperty("payloadType").GetString());
        }

        // The checksum of each task's bytes, computed here the same way the JS agent does.
        var expected = Enumerable.Range(0, 4).Select(i =>
        {
            var sum = 0;
            for (var k = 0; k < size; k++)
            {
                sum = (sum + ((k * 7 + i) % 256)) % 65521;
            }

            return sum;
        }).Order();
        Assert.Equal(expected, results.Select(r => r.Result!.Json.GetProperty("checksum").GetInt32()).Order());
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task JsSubmitter_BinaryPayloadToDotNetAgent_BytesIntact()
    {
        await using var h = await HubHarness.StartAsync(protocol: HubProtocol.MessagePack);
        await h.StartAgentAsync("dotnet-bytes", (task, _) =>
        {
            var bytes = task.Payload!.Json.GetProperty("data").GetBytesFromBase64();
            var index = task.Payload!.Json.GetProperty("index").GetInt32();
            var intact = bytes.Select((b, k) => b == (k * 7 + index) % 256).All(x => x);
            return ValueTask.FromResult(JsonSerializer.SerializeToElement(new { length = bytes.Length, intact }));
        }, method: "blob.check");

        var results = await JsSubmitAsync(h, "blob.check", 3, bytes: 4096);

        Assert.All(results, r =>
        {
            Assert.Equal(TaskStatuses.Completed, r.Status);
            Assert.Equal(4096, r.Result!.Json.GetProperty("length").GetInt32());
            Assert.True(r.Result!.Json.GetProperty("intact").GetBoolean());
        });
    }

    [Theory]
    [InlineData(HubProtocol.MessagePack)]
    [InlineData(HubProtocol.Json)]
    public async Task JsAgentFailing_FailsOverToDotNetAgent_AllCompleted(HubProtocol protocol)
    {
        await using var h = await HubHarness.StartAsync(protocol: protocol);
        await using var js = await StartJsAgentAsync(h, "js-failing", "fail");
        await h.StartAgentAsync("dotnet-ok", HubHarness.Echo("dotnet-ok"), method: "js.work");

        var results = await JsSubmitAsync(h, "js.work", 10, strategy: "round-robin");

        Assert.All(results, r => Assert.Equal(TaskStatuses.Completed, r.Status));
        Assert.All(results, r => Assert.Equal("dotnet-ok", r.AgentId));
        var failedOver = results.Where(r => r.Attempts == 2).ToList();
        Assert.NotEmpty(failedOver);
        Assert.All(failedOver, r =>
        {
            Assert.Equal(AttemptOutcomes.Error, r.Route[0].Outcome);
            Assert.Equal("js_error", r.Route[0].Error!.Code);
        });
        await h.AssertNothingPendingAsync();
    }

    [Theory]
    [InlineData(HubProtocol.MessagePack)]
    [InlineData(HubProtocol.Json)]
    public async Task JsSubmitter_BadRequests_TypedErrors(HubProtocol protocol)
    {
        await using var h = await HubHarness.StartAsync(protocol: protocol);
        await h.StartAgentAsync("a1", HubHarness.Echo("a1"), method: "js.work");

        var unknownStrategy = Assert.Single(await JsSubmitAsync(h, "js.work", 1, strategy: "teleport"));
        Assert.Equal(TaskStatuses.Rejected, unknownStrategy.Status);
        Assert.Equal(ErrorCodes.UnknownStrategy, unknownStrategy.Error!.Code);

        var noAgents = Assert.Single(await JsSubmitAsync(h, "nobody.home", 1));
        Assert.Equal(TaskStatuses.NoAgents, noAgents.Status);
    }
}
