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
        Assert.Equal("The submitter read none of the 2 buffered chunks within 10000 ms; the task was ended.", stream.Failure?.Message);
        Assert.True(stream.Token.IsCancellationRequested);
        Assert.Equal(2, stream.ChunksForwarded);
    }

    /// <summary>A stream with its buffer (two chunks) full from attempt 1, and a third chunk waiting for room.</summary>
    private async Task<(TaskStream Stream, Task<bool> Third)> FullAsync(CancellationToken submitter = default, CancellationToken agentCall = default)
    {
        var stream = new TaskStream(Small, _time, submitter);
        stream.BeginAttempt(1);
        Assert.True(await stream.OfferAsync(1, Chunk(0), CancellationToken.None).AsTask().DefaultTimeout());
        Assert.True(await stream.OfferAsync(1, Chunk(1), CancellationToken.None).AsTask().DefaultTimeout());
        var third = stream.OfferAsync(1, Chunk(2), agentCall).AsTask();
        Assert.False(third.IsCompleted);
        return (stream, third);
    }

    [Fact]
    public async Task OfferAsync_AttemptEndsWhileItsChunkWaitsForRoom_ChunkRefusedAndTheRoomKeptForTheNext()
    {
        var (stream, third) = await FullAsync();

        stream.EndAttempt(1);
        await using var reader = stream.ReadAllAsync().GetAsyncEnumerator();
        Assert.True(await reader.MoveNextAsync().AsTask().DefaultTimeout()); // frees one place: the waiting chunk gets it, then gives it back

        Assert.False(await third.DefaultTimeout());
        Assert.Equal(2, stream.ChunksForwarded);
        stream.BeginAttempt(2);
        var next = stream.OfferAsync(2, Chunk(3), CancellationToken.None).AsTask();
        Assert.True(next.IsCompleted); // the place is free, no wait
        Assert.True(await next);
        Assert.True(await reader.MoveNextAsync().AsTask().DefaultTimeout());
        Assert.True(await reader.MoveNextAsync().AsTask().DefaultTimeout());
        Assert.Equal((2, "3"), (reader.Current.Seq, reader.Current.Chunk!.ToString()));
    }

    [Fact]
    public async Task OfferAsync_SubmitterGoesAwayWhileAChunkWaits_RefusedWithoutSlowConsumer()
    {
        using var submitter = new CancellationTokenSource();
        var (stream, third) = await FullAsync(submitter.Token);

        await submitter.CancelAsync();

        Assert.False(await third.DefaultTimeout());
        Assert.Null(stream.Failure); // the task ends cancelled, not slow_consumer
        Assert.True(stream.Token.IsCancellationRequested);
    }

    [Fact]
    public async Task OfferAsync_AgentsCallAbortedWhileAChunkWaits_RefusedWithoutSlowConsumer()
    {
        using var call = new CancellationTokenSource();
        var (stream, third) = await FullAsync(agentCall: call.Token);

        await call.CancelAsync(); // the agent's connection went away mid-call

        Assert.False(await third.DefaultTimeout());
        Assert.Null(stream.Failure);
        Assert.False(stream.Token.IsCancellationRequested); // the task goes on (its attempt ends as the agent is lost)
    }

    [Fact]
    public async Task Complete_ThenAnAttemptBegins_ItsChunksRefusedAndTheSubmittersCancelNoLongerReachesTheTask()
    {
        using var submitter = new CancellationTokenSource();
        var stream = new TaskStream(Small, _time, submitter.Token);
        stream.Complete(new TaskResult { TaskId = "t", Status = TaskStatuses.Completed });

        stream.BeginAttempt(2);
        Assert.False(await stream.OfferAsync(2, Chunk(0), CancellationToken.None).AsTask().DefaultTimeout());
        await submitter.CancelAsync();

        Assert.False(stream.Token.IsCancellationRequested);
        Assert.Equal(0, stream.ChunksForwarded);
        var items = await stream.ReadAllAsync().ToListAsync().AsTask().DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, Assert.Single(items).Result?.Status);
    }

    [Fact]
    public async Task Fault_ReaderSeesTheExceptionAfterTheChunksAndLaterChunksAreRefused()
    {
        var stream = new TaskStream(Small, _time, CancellationToken.None);
        stream.BeginAttempt(1);
        Assert.True(await stream.OfferAsync(1, Chunk(0), CancellationToken.None).AsTask().DefaultTimeout());
        var fault = new InvalidOperationException("broken");

        stream.Fault(fault);

        Assert.False(await stream.OfferAsync(1, Chunk(1), CancellationToken.None).AsTask().DefaultTimeout());
        await using var reader = stream.ReadAllAsync().GetAsyncEnumerator();
        Assert.True(await reader.MoveNextAsync().AsTask().DefaultTimeout());
        Assert.Equal("0", reader.Current.Chunk!.ToString());
        Assert.Same(fault, await Assert.ThrowsAsync<InvalidOperationException>(() => reader.MoveNextAsync().AsTask()).DefaultTimeout());
        Assert.Same(fault, await Assert.ThrowsAsync<InvalidOperationException>(() => stream.Finished).DefaultTimeout());
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

    [Fact]
    public async Task PartialAsync_ChunkAtTheLimitTaken_OneByteOverEndsTheAttemptAndTheAgentIsCancelled()
    {
        var f = new DispatcherFixture();
        f.Create(new AicpHubOptions { Streaming = new StreamingOptions { MaxChunkBytes = 16 } });
        var agent = f.Register("a");
        var other = f.Register("b");
        var stream = f.Dispatcher.SubmitStream(DispatcherFixture.Request(), CancellationToken.None);
        var (first, sent) = await f.Channel.NextAsync();
        TaskPartial Partial(string text) => new() { TaskId = sent.TaskId, Attempt = sent.Attempt, Chunk = TaskPayload.FromJson(JsonSerializer.SerializeToElement(text)) };

        Assert.True(await f.Dispatcher.PartialAsync(first.ConnectionId, Partial(new string('x', 14)), CancellationToken.None).AsTask().DefaultTimeout()); // 16 bytes with its quotes
        Assert.False(await f.Dispatcher.PartialAsync(first.ConnectionId, Partial(new string('x', 15)), CancellationToken.None).AsTask().DefaultTimeout());
        var result = await stream.Finished.DefaultTimeout();

        Assert.Equal((TaskStatuses.Failed, ErrorCodes.StreamInterrupted), (result.Status, result.Error?.Code)); // one chunk reached the submitter: no failover
        var route = Assert.Single(result.Route);
        Assert.Equal((AttemptOutcomes.Error, ErrorCodes.ChunkTooLarge), (route.Outcome, route.Error?.Code));
        Assert.Equal("A chunk of 17 bytes exceeds the limit of 16.", route.Error?.Message);
        await TestTimeouts.Eventually(() => f.Channel.Cancelled.Contains((first.AgentId, sent.TaskId)), "the agent told to stop");
        Assert.Equal(1, f.Counters.StreamChunks);
        f.AssertNothingHeld(agent, other);
    }

    [Fact]
    public async Task PartialAsync_ForAnAttemptThatEnded_RefusedAndCountedLate()
    {
        var f = new DispatcherFixture();
        var agent = f.Register("a");
        var stream = f.Dispatcher.SubmitStream(DispatcherFixture.Request(), CancellationToken.None);
        var (_, sent) = await f.Channel.NextAsync();
        f.Answer(agent, sent);
        await stream.Finished.DefaultTimeout();

        var late = await f.Dispatcher.PartialAsync(agent.ConnectionId, new TaskPartial { TaskId = sent.TaskId, Attempt = 1, Chunk = Chunk(0) }, CancellationToken.None);

        Assert.False(late);
        Assert.Equal(1, f.Counters.LateChunks);
        Assert.Equal(1, f.Counters.Finished(TaskStatuses.Completed)); // a streamed task counts as finished like any other
    }

    [Fact]
    public async Task SubmitStream_CapabilityWithoutAgents_FallsBackLikeAnyTask()
    {
        var f = new DispatcherFixture();
        var agent = f.Registry.Register("c-s", "small", ["text.small"], 2, new Dictionary<string, string>()).Agent;
        var request = DispatcherFixture.Request();
        var stream = f.Dispatcher.SubmitStream(new TaskRequest { Method = request.Method, Payload = request.Payload, Fallbacks = ["text.small"] }, CancellationToken.None);

        var (_, sent) = await f.Channel.NextAsync();
        Assert.Equal(("text.small", true), (sent.Method, sent.Stream));
        f.Answer(agent, sent);
        var result = await stream.Finished.DefaultTimeout();

        Assert.Equal((TaskStatuses.Completed, "small"), (result.Status, result.AgentId));
    }

    [Fact]
    public async Task SubmitStream_HedgedCapability_NeverHedged()
    {
        var f = new DispatcherFixture();
        f.Create(new AicpHubOptions { Hedging = { Capabilities = [DispatcherFixture.Method], Delay = TimeSpan.FromMilliseconds(50), BudgetRatio = 1 } });
        var a = f.Register("a");
        var b = f.Register("b");
        var stream = f.Dispatcher.SubmitStream(DispatcherFixture.Request(), CancellationToken.None);
        var (first, sent) = await f.Channel.NextAsync();

        f.Time.Advance(TimeSpan.FromSeconds(1));
        await Task.Yield();
        Assert.True(f.Channel.IsEmpty); // a second attempt's output could not join the first's
        f.Answer(first, sent);
        var result = await stream.Finished.DefaultTimeout();

        Assert.Equal((TaskStatuses.Completed, 1), (result.Status, result.Attempts));
        Assert.Equal(0, f.Counters.Hedges);
        f.AssertNothingHeld(a, b);
    }
}
