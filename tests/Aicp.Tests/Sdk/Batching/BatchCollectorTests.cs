using System.Collections.Concurrent;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Batching;
using Aicp.Agent.Sdk.Connection;
using Aicp.Agent.Sdk.Serialization;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Sdk.Batching;

public sealed class BatchCollectorTests
{
    private static readonly PayloadSerializer Json = new(AicpConnectionOptions.CreateSerializerOptions(), HubProtocol.Json);

    private sealed record Item(int I);

    private static AgentTaskContext Task(int i) =>
        new(new TaskAssignment { TaskId = $"t{i}", Attempt = 1, Method = "image.label", Payload = TaskPayload.FromJson(JsonSerializer.SerializeToElement(new { i })), TimeoutMs = 30_000 }, Json);

    private static Func<IReadOnlyList<BatchItem<Item, int>>, CancellationToken, ValueTask> Echo(ConcurrentQueue<int> sizes) => (batch, _) =>
    {
        sizes.Enqueue(batch.Count);
        foreach (var item in batch)
        {
            item.Succeed(item.Request.I * 10);
        }

        return ValueTask.CompletedTask;
    };

    [Fact]
    public async Task RunAsync_MoreTasksThanMaxBatchSize_SplitIntoFullBatchesThenRemainder()
    {
        var sizes = new ConcurrentQueue<int>();
        await using var collector = new BatchCollector<Item, int>(Echo(sizes), new BatchOptions { MaxBatchSize = 4, MaxWait = TimeSpan.FromSeconds(1) });

        var results = await System.Threading.Tasks.Task.WhenAll(Enumerable.Range(0, 10).Select(i => collector.RunAsync(Task(i), default).AsTask())).DefaultTimeout();

        Assert.Equal([4, 4, 2], sizes);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i * 10), results);
    }

    [Fact]
    public async Task RunAsync_LoneTask_RunsAfterMaxWaitAsBatchOfOne()
    {
        var sizes = new ConcurrentQueue<int>();
        await using var collector = new BatchCollector<Item, int>(Echo(sizes), new BatchOptions { MaxBatchSize = 16, MaxWait = TimeSpan.FromMilliseconds(20) });

        var result = await collector.RunAsync(Task(7), default).AsTask().DefaultTimeout();

        Assert.Equal(70, result);
        Assert.Equal([1], sizes);
    }

    [Fact]
    public async Task RunAsync_HandlerFailsOneItem_OnlyThatTaskFails()
    {
        await using var collector = new BatchCollector<Item, string>((batch, _) =>
        {
            foreach (var item in batch)
            {
                if (item.Task.TaskId == "t1")
                {
                    item.Fail("invalid_image", "bad pixels");
                }
                else
                {
                    item.Succeed("ok");
                }
            }

            return ValueTask.CompletedTask;
        }, new BatchOptions { MaxBatchSize = 3, MaxWait = TimeSpan.FromSeconds(1) });

        var runs = Enumerable.Range(0, 3).Select(i => collector.RunAsync(Task(i), default).AsTask()).ToArray();
        var error = await Assert.ThrowsAsync<AgentTaskException>(() => runs[1].DefaultTimeout());
        Assert.Equal("invalid_image", error.Code);
        Assert.Equal("ok", (await runs[0].DefaultTimeout()));
        Assert.Equal("ok", (await runs[2].DefaultTimeout()));
    }

    [Fact]
    public async Task RunAsync_HandlerThrows_UnansweredItemsFailAndAnsweredKeepResults()
    {
        await using var collector = new BatchCollector<Item, string>((batch, _) =>
        {
            batch[0].Succeed("first");
            throw new InvalidOperationException("device lost");
        }, new BatchOptions { MaxBatchSize = 2, MaxWait = TimeSpan.FromSeconds(1) });

        var runs = Enumerable.Range(0, 2).Select(i => collector.RunAsync(Task(i), default).AsTask()).ToArray();
        var outcomes = await System.Threading.Tasks.Task.WhenAll(runs.Select(async r =>
        {
            try
            {
                return await r;
            }
            catch (AgentTaskException ex)
            {
                return ex.Code;
            }
        })).DefaultTimeout();

        Assert.Equal(["first", Aicp.Protocol.ErrorCodes.HandlerException], outcomes.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task RunAsync_OneTaskCancelledBeforeBatchStarts_LeftOutAndOthersComplete()
    {
        var seen = new ConcurrentQueue<string>();
        await using var collector = new BatchCollector<Item, string>((batch, _) =>
        {
            foreach (var item in batch)
            {
                seen.Enqueue(item.Task.TaskId);
                item.Succeed("done");
            }

            return ValueTask.CompletedTask;
        }, new BatchOptions { MaxBatchSize = 8, MaxWait = TimeSpan.FromSeconds(1) });

        using var cancel = new CancellationTokenSource();
        var kept = collector.RunAsync(Task(0), default).AsTask();
        var dropped = collector.RunAsync(Task(1), cancel.Token).AsTask();
        var kept2 = collector.RunAsync(Task(2), default).AsTask();
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dropped.DefaultTimeout());
        Assert.Equal("done", (await kept.DefaultTimeout()));
        Assert.Equal("done", (await kept2.DefaultTimeout()));
        Assert.Equal(["t0", "t2"], seen.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task RunAsync_TaskCancelledDuringBatch_OthersStillComplete()
    {
        var inside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var collector = new BatchCollector<Item, string>(async (batch, _) =>
        {
            inside.TrySetResult();
            await release.Task;
            foreach (var item in batch)
            {
                item.Succeed("done");
            }
        }, new BatchOptions { MaxBatchSize = 2, MaxWait = TimeSpan.FromSeconds(5) });

        using var cancel = new CancellationTokenSource();
        var kept = collector.RunAsync(Task(0), default).AsTask();
        var cancelled = collector.RunAsync(Task(1), cancel.Token).AsTask();
        await inside.Task.DefaultTimeout();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.DefaultTimeout());

        release.SetResult();
        Assert.Equal("done", (await kept.DefaultTimeout()));
    }

    [Fact]
    public void Constructor_InvalidOptions_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchCollector<Item, string>((_, _) => ValueTask.CompletedTask, new BatchOptions { MaxBatchSize = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchCollector<Item, string>((_, _) => ValueTask.CompletedTask, new BatchOptions { MaxConcurrentBatches = 0 }));
    }
}
