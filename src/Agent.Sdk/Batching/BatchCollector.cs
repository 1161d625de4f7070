using System.Threading.Channels;
using Aicp.Agent.Sdk.Agent;

namespace Aicp.Agent.Sdk.Batching;

/// <summary>
/// Gathers the tasks of one capability into batches: the first waiting task opens a batch, which closes
/// when it holds <see cref="BatchOptions.MaxBatchSize"/> tasks or <see cref="BatchOptions.MaxWait"/> has
/// passed. Tasks cancelled before their batch starts are left out; a handler exception fails only the
/// items it left unanswered.
/// </summary>
internal sealed class BatchCollector<TRequest, TResponse> : IAsyncDisposable
{
    private readonly Channel<BatchItem<TRequest, TResponse>> _queue = Channel.CreateUnbounded<BatchItem<TRequest, TResponse>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<IReadOnlyList<BatchItem<TRequest, TResponse>>, CancellationToken, ValueTask> _handler;
    private readonly BatchOptions _options;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _running;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    public BatchCollector(Func<IReadOnlyList<BatchItem<TRequest, TResponse>>, CancellationToken, ValueTask> handler, BatchOptions options, TimeProvider? time = null)
    {
        options.Validate();
        _handler = handler;
        _options = options;
        _time = time ?? TimeProvider.System;
        _running = new SemaphoreSlim(options.MaxConcurrentBatches, options.MaxConcurrentBatches);
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The agent handler that routes one task through the batcher.</summary>
    public async ValueTask<TResponse> RunAsync(AgentTaskContext task, CancellationToken cancellationToken)
    {
        var item = new BatchItem<TRequest, TResponse>(task.GetPayload<TRequest>()!, task, cancellationToken);
        if (!_queue.Writer.TryWrite(item))
        {
            throw new ObjectDisposedException(nameof(BatchCollector<TRequest, TResponse>));
        }

        return await item.Outcome.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        _stopping.Cancel();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
    }

    private async Task LoopAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
        {
            var batch = new List<BatchItem<TRequest, TResponse>>(_options.MaxBatchSize);
            using (var window = new CancellationTokenSource(_options.MaxWait, _time))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(window.Token, _stopping.Token))
            {
                while (batch.Count < _options.MaxBatchSize)
                {
                    if (reader.TryRead(out var item))
                    {
                        if (!item.CancellationToken.IsCancellationRequested)
                        {
                            batch.Add(item);
                        }

                        continue;
                    }

                    if (batch.Count == 0 && !await WaitAsync(reader, _stopping.Token).ConfigureAwait(false))
                    {
                        return;
                    }

                    if (batch.Count > 0 && !await WaitAsync(reader, linked.Token).ConfigureAwait(false))
                    {
                        break; // the window closed
                    }
                }
            }

            await _running.WaitAsync(_stopping.Token).ConfigureAwait(false);

            // A task cancelled while its batch was filling, or while the batch waited for a free run, is left out.
            batch.RemoveAll(static item => item.CancellationToken.IsCancellationRequested);
            if (batch.Count == 0)
            {
                _running.Release();
                continue;
            }

            _ = RunBatchAsync(batch);
        }
    }

    private static async Task<bool> WaitAsync(ChannelReader<BatchItem<TRequest, TResponse>> reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task RunBatchAsync(List<BatchItem<TRequest, TResponse>> batch)
    {
        try
        {
            await _handler(batch, _stopping.Token).ConfigureAwait(false);
            foreach (var item in batch)
            {
                item.Fail(new AgentTaskException(Protocol.ErrorCodes.BatchItemUnanswered, "The batch handler returned without an outcome for this task."));
            }
        }
        catch (Exception ex)
        {
            foreach (var item in batch)
            {
                item.Fail(ex is AgentTaskException ? ex : new AgentTaskException(Protocol.ErrorCodes.HandlerException, ex.Message));
            }
        }
        finally
        {
            _running.Release();
        }
    }
}
