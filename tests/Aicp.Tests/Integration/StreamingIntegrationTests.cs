using System.Collections.Concurrent;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Integration;

/// <summary>Streamed results end to end: agents writing chunks, <c>SubmitStream</c>, failover before the first chunk only; once per wire protocol.</summary>
public abstract class StreamingIntegrationTests
{
    private const string Method = "text.chat";

    protected abstract HubProtocol Protocol { get; }

    private Task<HubHarness> StartHarnessAsync(IDictionary<string, string?>? settings = null) => HubHarness.StartAsync(settings, protocol: Protocol);

    /// <summary>A handler that writes one chunk per word of the payload, then returns the whole text.</summary>
    private static Func<AgentTaskContext, CancellationToken, ValueTask<string>> Words(ConcurrentBag<bool>? streaming = null) => async (task, ct) =>
    {
        streaming?.Add(task.IsStreaming);
        var words = task.GetPayload<string>()!.Split(' ');
        foreach (var word in words)
        {
            await task.WriteChunkAsync(word, ct);
        }

        return string.Join(' ', words);
    };

    [Fact]
    public async Task SubmitStream_AgentWritesChunks_EveryChunkInOrderThenOneResult()
    {
        await using var h = await StartHarnessAsync();
        var streaming = new ConcurrentBag<bool>();
        await h.StartAgentAsync("chat-1", Words(streaming), method: Method);
        var client = await h.StartClientAsync();
        const string Text = "the quick brown fox jumps over the lazy dog";

        var stream = client.SubmitStream<string>(Method, Text);
        var chunks = new List<string>();
        await foreach (var chunk in stream.WithCancellation(CancellationToken.None))
        {
            chunks.Add(chunk);
        }

        var result = await stream.Result.DefaultTimeout();
        Assert.Equal(Text.Split(' '), chunks);
        Assert.Equal(9, stream.ChunkCount);
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(Text, result.GetResult<string>());
        Assert.Equal([true], streaming);
        Assert.Equal(9, h.Counters.StreamChunks);
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Submit_AgentWritesChunks_NotAStreamSoChunksAreNotSentAndTheResultIsWhole()
    {
        await using var h = await StartHarnessAsync();
        var streaming = new ConcurrentBag<bool>();
        await h.StartAgentAsync("chat-1", Words(streaming), method: Method);
        var client = await h.StartClientAsync();

        var result = await client.SubmitAsync(Method, "one two three").DefaultTimeout();

        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal("one two three", result.GetResult<string>());
        Assert.Equal([false], streaming);
        Assert.Equal(0, h.Counters.StreamChunks);
        Assert.Equal(0, h.Counters.LateChunks);
    }

    [Fact]
    public async Task SubmitStream_AgentKilledBeforeItsFirstChunk_FailsOverAndTheStreamIsWhole()
    {
        await using var h = await StartHarnessAsync();
        var firstAttempt = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var agents = new Dictionary<string, AicpAgent>();
        foreach (var id in new[] { "chat-1", "chat-2" })
        {
            agents[id] = await h.StartAgentAsync<string>(id, async (task, ct) =>
            {
                if (task.Attempt == 1)
                {
                    firstAttempt.TrySetResult(id);
                    await Task.Delay(Timeout.Infinite, ct); // killed before it writes anything
                }

                return await Words()(task, ct);
            }, method: Method);
        }

        var client = await h.StartClientAsync();
        var stream = client.SubmitStream<string>(Method, "alpha beta gamma");
        var reading = ReadAllAsync(stream);
        var doomed = await firstAttempt.Task.DefaultTimeout();
        await agents[doomed].AbortAsync();

        var chunks = await reading.DefaultTimeout();
        var result = await stream.Result.DefaultTimeout();
        Assert.Equal(["alpha", "beta", "gamma"], chunks);
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(2, result.Attempts);
        Assert.Equal([AttemptOutcomes.Disconnected, AttemptOutcomes.Completed], result.Route.Select(r => r.Outcome));
        Assert.Equal(doomed, result.Route[0].AgentId);
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task SubmitStream_AgentKilledAfterItsFirstChunks_EndsStreamInterruptedWithoutFailover()
    {
        await using var h = await StartHarnessAsync();
        var wrote = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var agents = new Dictionary<string, AicpAgent>();
        var attempts = 0;
        foreach (var id in new[] { "chat-1", "chat-2" })
        {
            agents[id] = await h.StartAgentAsync<string>(id, async (task, ct) =>
            {
                Interlocked.Increment(ref attempts);
                await task.WriteChunkAsync("first", ct);
                await task.WriteChunkAsync("second", ct);
                wrote.TrySetResult(id);
                await Task.Delay(Timeout.Infinite, ct); // killed mid-stream
                return "never";
            }, method: Method);
        }

        var client = await h.StartClientAsync();
        var stream = client.SubmitStream<string>(Method, "x");
        var reading = ReadAllAsync(stream);
        var doomed = await wrote.Task.DefaultTimeout();
        await agents[doomed].AbortAsync();

        var chunks = await reading.DefaultTimeout();
        var result = await stream.Result.DefaultTimeout();
        Assert.Equal(["first", "second"], chunks);
        Assert.Equal(TaskStatuses.Failed, result.Status);
        Assert.Equal(ErrorCodes.StreamInterrupted, result.Error?.Code);
        Assert.Equal(1, result.Attempts);
        Assert.Equal(AttemptOutcomes.Disconnected, Assert.Single(result.Route).Outcome);
        Assert.Equal(1, Volatile.Read(ref attempts)); // the other agent never got it
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task SubmitStream_ChunkOverTheLimit_AttemptEndsChunkTooLarge()
    {
        await using var h = await StartHarnessAsync(new Dictionary<string, string?> { ["Aicp:Streaming:MaxChunkBytes"] = "64" });
        var write = new ConcurrentBag<string>();
        await h.StartAgentAsync<string>("chat-1", async (task, ct) =>
        {
            try
            {
                write.Add(await task.WriteChunkAsync(new string('x', 1000), ct) ? "taken" : "refused");
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                write.Add("cancelled");
                throw;
            }

            return "done";
        }, method: Method);
        var client = await h.StartClientAsync();

        var result = await client.SubmitStream<string>(Method, "x", new SubmitOptions { MaxAttempts = 1 }).ReadToEndAsync().DefaultTimeout();

        Assert.Equal(TaskStatuses.Failed, result.Status);
        Assert.Equal(ErrorCodes.ChunkTooLarge, result.Error?.Code);
        // The hub answers the write "refused" and cancels the ended attempt; whichever reaches the agent first ends the
        // write, and either may trail the result.
        await TestTimeouts.Eventually(() => !write.IsEmpty, "the agent's write ended");
        Assert.Contains(Assert.Single(write), new[] { "refused", "cancelled" });
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task SubmitStream_NoAgentsOrRefused_OneFinalItemAndNoChunks()
    {
        await using var h = await StartHarnessAsync(TestCredentials.Secured());
        var submitter = await h.StartClientAsync(TestCredentials.SubmitterKey);
        var admin = await h.StartClientAsync(TestCredentials.AdminKey);

        var noAgents = await ReadResultAsync(submitter);
        var forbidden = await ReadResultAsync(admin);

        Assert.Equal((TaskStatuses.NoAgents, ErrorCodes.NoAgents), (noAgents.Status, noAgents.Error?.Code));
        Assert.Equal((TaskStatuses.Rejected, ErrorCodes.Forbidden), (forbidden.Status, forbidden.Error?.Code));

        static async Task<TaskResult> ReadResultAsync(AicpTaskClient client)
        {
            var stream = client.SubmitStream<JsonElement>(Method, "x");
            var result = await stream.ReadToEndAsync().DefaultTimeout();
            Assert.Equal(0, stream.ChunkCount);
            return result;
        }
    }

    private static async Task<List<string>> ReadAllAsync(AicpTaskStream<string> stream)
    {
        var chunks = new List<string>();
        await foreach (var chunk in stream)
        {
            chunks.Add(chunk);
        }

        return chunks;
    }
}

public sealed class JsonStreamingIntegrationTests : StreamingIntegrationTests
{
    protected override HubProtocol Protocol => HubProtocol.Json;
}

public sealed class MessagePackStreamingIntegrationTests : StreamingIntegrationTests
{
    protected override HubProtocol Protocol => HubProtocol.MessagePack;
}
