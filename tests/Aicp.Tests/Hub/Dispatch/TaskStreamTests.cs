using System.Text.Json;
using Aicp.Hub.Configuration;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Hub.Dispatch;

/// <summary>A stream's bounded buffer, its stall timeout and the attempt that may write to it, on a manual clock.</summary>
public sealed class TaskStreamTests
{
    private const string Method = "text.chat";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly RecordingAgentChannel _channel = new();

    private static readonly StreamingOptions Small = new() { MaxBufferedChunks = 2, StallTimeout = TimeSpan.FromSeconds(10) };

    private static TaskPayload Chunk(int n) => TaskPayload.FromJson(JsonSerializer.SerializeToElement(n));

    [Fact]
    public async Task OfferAsync_BufferFull_WaitsUntilTheReaderTakesAChunk()
    {
        var stream = new TaskStream(Small, _time, CancellationToken.None);
        stream.BeginAttempt(1);
        Assert.True(await stream.OfferAsync(1, Chunk(0), CancellationToken.None).AsTask().DefaultTimeout());
        Assert.True(await stream.OfferAsync(1, Chunk(1), CancellationToken.None).AsTask().DefaultTimeout());

        var third = stream.OfferAsync(1, Chunk(2), CancellationToken.None).AsTask();
        Assert.False(third.IsCompleted);
        await using var reader = stream.ReadAllAsync().GetAsyncEnumerator();
        Assert.True(await reader.MoveNextAsync().AsTask().DefaultTimeout());

        Assert.True(await third.DefaultTimeout());
        Assert.Equal(3, stream.ChunksForwarded);
        Assert.Null(stream.Failure);
    }

    [Fact]
    public async Task OfferAsync_ReaderStalls_SlowConsumerAtTheStallTimeoutAndTheTaskIsCancelled()
    {
        var stream = new TaskStream(Small, _time, CancellationToken.None);
        stream.BeginAttempt(1);
        await stream.OfferAsync(1, Chunk(0), CancellationToken.None);
        await stream.OfferAsync(1, Chunk(1), CancellationToken.None);

        var third = stream.OfferAsync(1, Chunk(2), CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        Assert.False(third.IsCompleted);
        _time.Advance(TimeSpan.FromTicks(1));

        Assert.False(await third.DefaultTimeout());
        Assert.Equal(ErrorCodes.SlowConsumer, stream.Failure?.Code);
        Assert.True(stream.Token.IsCancellationRequested);
        Assert.Equal(2, stream.ChunksForwarded);
    }

    [Fact]
    public async Task OfferAsync_EndedOrOtherAttempt_RefusedAndTheFinalResultComesAfterTheChunksEvenWhenFull()
    {
        var stream = new TaskStream(Small, _time, CancellationToken.None);
        stream.BeginAttempt(1);
        await stream.OfferAsync(1, Chunk(0), CancellationToken.None);
        Assert.False(await stream.OfferAsync(2, Chunk(9), CancellationToken.None)); // not the live attempt
        await stream.OfferAsync(1, Chunk(1), CancellationToken.None);
        stream.EndAttempt(1);
        Assert.False(await stream.OfferAsync(1, Chunk(2), CancellationToken.None)); // its attempt ended

        stream.Complete(new TaskResult { TaskId = "t", Status = TaskStatuses.Completed });
        var items = new List<TaskStreamItem>();
        await foreach (var item in stream.ReadAllAsync())
        {
            items.Add(item);
        }

        Assert.Equal([0, 1, null], items.Select(i => i.Seq));
        Assert.Equal(TaskStatuses.Completed, items[^1].Result?.Status);
        Assert.Equal(TaskStatuses.Completed, (await stream.Finished.DefaultTimeout()).Status);
    }

    [Fact]
    public async Task SubmitStream_SubmitterStopsReading_AgentHeldBackThenTaskFailsSlowConsumerAndAgentCancelled()
    {
        var (dispatcher, registry) = TestDispatcher.Create(_time, _channel, new AicpHubOptions { Streaming = Small });
        var agent = registry.Register("c-a", "a", [Method], 4, new Dictionary<string, string>()).Agent;
        var stream = dispatcher.SubmitStream(new TaskRequest { Method = Method, TimeoutMs = 60_000 }, CancellationToken.None);
        var (_, sent) = await _channel.NextAsync();
        Assert.True(sent.Stream);
        TaskPartial Partial(int n) => new() { TaskId = sent.TaskId, Attempt = sent.Attempt, Chunk = Chunk(n) };

        Assert.True(await dispatcher.PartialAsync(agent.ConnectionId, Partial(0), CancellationToken.None).AsTask().DefaultTimeout());
        Assert.True(await dispatcher.PartialAsync(agent.ConnectionId, Partial(1), CancellationToken.None).AsTask().DefaultTimeout());
        var held = dispatcher.PartialAsync(agent.ConnectionId, Partial(2), CancellationToken.None).AsTask();
        Assert.False(held.IsCompleted); // back-pressure: the agent's call is not answered while the buffer is full
        _time.Advance(Small.StallTimeout);

        Assert.False(await held.DefaultTimeout());
        var result = await stream.Finished.DefaultTimeout();
        Assert.Equal((TaskStatuses.Failed, ErrorCodes.SlowConsumer), (result.Status, result.Error?.Code));
        Assert.Contains(("a", sent.TaskId), _channel.Cancelled);
        Assert.Equal(0, agent.Pending);
        Assert.Equal(0, dispatcher.InFlightCount);
    }

    [Fact]
    public async Task PartialAsync_UnknownForeignOrPlainTask_RefusedDiscardedAndCounted()
    {
        var (dispatcher, registry) = TestDispatcher.Create(_time, _channel);
        var agent = registry.Register("c-a", "a", [Method], 4, new Dictionary<string, string>()).Agent;
        var plain = dispatcher.SubmitAsync(new TaskRequest { Method = Method }, CancellationToken.None);
        var (_, sent) = await _channel.NextAsync();
        Assert.Null(sent.Stream);

        var unknown = await dispatcher.PartialAsync(agent.ConnectionId, new TaskPartial { TaskId = "nope", Attempt = 1, Chunk = Chunk(0) }, CancellationToken.None);
        var foreign = await dispatcher.PartialAsync("c-other", new TaskPartial { TaskId = sent.TaskId, Attempt = 1, Chunk = Chunk(0) }, CancellationToken.None);
        var discarded = await dispatcher.PartialAsync(agent.ConnectionId, new TaskPartial { TaskId = sent.TaskId, Attempt = 1, Chunk = Chunk(0) }, CancellationToken.None);
        dispatcher.Complete(agent.ConnectionId, new TaskCompletion { TaskId = sent.TaskId, Attempt = 1, Ok = true, Result = Chunk(1) });

        Assert.Equal((false, false, true), (unknown, foreign, discarded));
        Assert.Equal(TaskStatuses.Completed, (await plain.DefaultTimeout()).Status);
    }
}
