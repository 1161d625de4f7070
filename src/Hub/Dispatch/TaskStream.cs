using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Aicp.Hub.Configuration;
using Aicp.Protocol;

namespace Aicp.Hub.Dispatch;

/// <summary>
/// A streamed task's output on its way to the submitter: the chunks its live attempt sends, then exactly one final
/// result. Bounded: at most <see cref="StreamingOptions.MaxBufferedChunks"/> chunks wait for the reader; an agent's next
/// chunk waits for room (back-pressure reaches the agent, whose <c>Partial</c> is not answered until then), and a
/// chunk that waits longer than <see cref="StreamingOptions.StallTimeout"/> fails the task with <c>slow_consumer</c>.
/// The final result needs no room, so it is never held back by the bound.
/// </summary>
/// <remarks>
/// One lock orders what decides the stream: a chunk is taken only from the attempt that is live now, and an attempt's
/// end (<see cref="EndAttempt"/>) closes it to further chunks before the dispatcher decides whether to fail over, so the
/// count it reads (<see cref="ChunksForwarded"/>) is final for that attempt. The task's cancellation
/// (<see cref="Token"/>) is the submitter's, plus the stall.
/// </remarks>
internal sealed class TaskStream
{
    // Stryker disable once Boolean,Initializer : SingleReader is a performance hint; the stream has one reader by contract
    private readonly Channel<TaskStreamItem> _items = Channel.CreateUnbounded<TaskStreamItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _room;
    private readonly CancellationTokenSource _cancel = new();
    private readonly CancellationTokenRegistration _submitter;
    private readonly TaskCompletionSource<TaskResult> _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StreamingOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private int _liveAttempt;
    private bool _closed;

    public TaskStream(StreamingOptions options, TimeProvider time, CancellationToken submitter)
    {
        _options = options;
        _time = time;
        _room = new SemaphoreSlim(options.MaxBufferedChunks, options.MaxBufferedChunks);
        Token = _cancel.Token;
        _submitter = submitter.UnsafeRegister(static s => ((TaskStream)s!).Cancel(), this);
    }

    /// <summary>The task's cancellation: the submitter went away, or the stream failed (<see cref="Failure"/>).</summary>
    public CancellationToken Token { get; }

    /// <summary>The task's id, once the dispatcher started it.</summary>
    // Stryker disable once String : read only after Started, which the dispatcher calls first
    public string TaskId { get; private set; } = "";

    /// <summary>Chunks taken for the submitter so far.</summary>
    public int ChunksForwarded { get; private set; }

    /// <summary>Why the stream ended the task itself (<c>slow_consumer</c>); null otherwise.</summary>
    public TaskError? Failure { get; private set; }

    /// <summary>The task's final result, once it has one.</summary>
    public Task<TaskResult> Finished => _finished.Task;

    /// <summary>Most bytes a chunk may have (<see cref="StreamingOptions.MaxChunkBytes"/>).</summary>
    public int MaxChunkBytes => _options.MaxChunkBytes;

    /// <summary>Most chunks the buffer holds (<see cref="StreamingOptions.MaxBufferedChunks"/>).</summary>
    public int MaxBufferedChunks => _options.MaxBufferedChunks;

    public void Started(string taskId) => TaskId = taskId;

    /// <summary>
    /// Ends the task as <c>slow_consumer</c> because the agent's output, relayed from another node, got more than
    /// <paramref name="held"/> chunks ahead of the submitter.
    /// </summary>
    public void Overflowed(int held) => Fail(TaskError.Of(ErrorCodes.SlowConsumer,
        $"The submitter fell more than {held} chunks behind the agent's output relayed from another node; the task was ended."));

    /// <summary>Attempt <paramref name="number"/> was sent: its chunks are taken from now on.</summary>
    public void BeginAttempt(int number)
    {
        lock (_lock)
        {
            // Stryker disable once Conditional : a closed stream takes no chunk either way: IsLive and the write also check _closed
            _liveAttempt = _closed ? 0 : number;
        }
    }

    /// <summary>Attempt <paramref name="number"/> ended: no chunk of it is taken after this returns.</summary>
    public void EndAttempt(int number)
    {
        lock (_lock)
        {
            if (_liveAttempt == number)
            {
                _liveAttempt = 0;
            }
        }
    }

    /// <summary>
    /// Takes a chunk of attempt <paramref name="attempt"/> for the submitter, waiting for room while the buffer is full.
    /// False when the attempt does not stream now (ended, not live, the task over) or the wait ended the task.
    /// </summary>
    public async ValueTask<bool> OfferAsync(int attempt, TaskPayload chunk, CancellationToken cancellationToken)
    {
        if (!IsLive(attempt))
        {
            return false;
        }

        if (!_room.Wait(0))
        {
            using var stall = new CancellationTokenSource(_options.StallTimeout, _time);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stall.Token, Token, cancellationToken);
            try
            {
                // Stryker disable once Boolean : the hub runs without a synchronization context
                await _room.WaitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                if (stall.IsCancellationRequested && !Token.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    Fail(TaskError.Of(ErrorCodes.SlowConsumer,
                        $"The submitter read none of the {_options.MaxBufferedChunks} buffered chunks within {_options.StallTimeout.TotalMilliseconds:F0} ms; the task was ended."));
                }

                return false;
            }
        }

        lock (_lock)
        {
            if (_liveAttempt == attempt && !_closed)
            {
                _items.Writer.TryWrite(new TaskStreamItem { TaskId = TaskId, Seq = ChunksForwarded, Chunk = chunk });
                ChunksForwarded++;
                return true;
            }
        }

        _room.Release();
        return false;
    }

    /// <summary>Ends the stream with the task's one final result; later chunks are refused.</summary>
    public void Complete(TaskResult result)
    {
        lock (_lock)
        {
            _closed = true;
            _liveAttempt = 0;
        }

        _submitter.Dispose();
        _items.Writer.TryWrite(new TaskStreamItem { TaskId = result.TaskId, Result = result });
        _items.Writer.TryComplete();
        _finished.TrySetResult(result);
    }

    /// <summary>Ends the stream with an exception instead of a result (a fault in the hub, not a task outcome).</summary>
    public void Fault(Exception exception)
    {
        lock (_lock)
        {
            _closed = true;
            _liveAttempt = 0;
        }

        _submitter.Dispose();
        _items.Writer.TryComplete(exception);
        _finished.TrySetException(exception);
    }

    /// <summary>The chunks, then the final result. One reader; a chunk read frees its room in the buffer.</summary>
    public async IAsyncEnumerable<TaskStreamItem> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Stryker disable once Boolean : the hub runs without a synchronization context
        await foreach (var item in _items.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (item.Result is null)
            {
                _room.Release();
            }

            yield return item;
        }
    }

    private bool IsLive(int attempt)
    {
        lock (_lock)
        {
            return _liveAttempt == attempt && !_closed;
        }
    }

    private void Fail(TaskError error)
    {
        lock (_lock)
        {
            // Stryker disable once Assignment : Fail has one caller, which always passes the same error (slow_consumer with the same message)
            Failure ??= error;
        }

        Cancel();
    }

    private void Cancel()
    {
        try
        {
            _cancel.Cancel();
        }
        catch (AggregateException)
        {
            // a callback of the task's token threw; the attempt it belonged to ends anyway
        }
    }
}
