using Aicp.Agent.Sdk.Serialization;
using Aicp.Protocol;

namespace Aicp.Agent.Sdk.Client;

/// <summary>
/// A task whose output is read as it is produced (<see cref="AicpTaskClient.SubmitStream{TChunk}"/>): enumerate it for
/// the chunks the agent writes, each bound to <typeparamref name="TChunk"/>; when the enumeration ends,
/// <see cref="Result"/> holds the task's one final result, whatever its status (a stream that failed over before its
/// first chunk, or that broke after it with <c>stream_interrupted</c>, ends the same way). The task starts when the
/// enumeration starts; it can be enumerated once. Cancelling the enumeration cancels the task.
/// </summary>
/// <typeparam name="TChunk">What each chunk binds to; <see cref="TaskPayload"/> takes chunks as they arrive.</typeparam>
public sealed class AicpTaskStream<TChunk> : IAsyncEnumerable<TChunk>
{
    private readonly Func<CancellationToken, Task<IAsyncEnumerable<TaskStreamItem>>> _open;
    private readonly PayloadSerializer _serializer;
    private readonly TaskCompletionSource<TaskResult> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _enumerated;

    internal AicpTaskStream(Func<CancellationToken, Task<IAsyncEnumerable<TaskStreamItem>>> open, PayloadSerializer serializer)
    {
        _open = open;
        _serializer = serializer;
    }

    /// <summary>
    /// The task's final result: completes when the enumeration reaches the end of the stream; faults with the exception
    /// that ended the enumeration otherwise (the connection failed, or the enumeration was cancelled).
    /// </summary>
    public Task<TaskResult> Result => _result.Task;

    /// <summary>Chunks received so far.</summary>
    public int ChunkCount { get; private set; }

    /// <summary>Reads the stream to its end, discarding the chunks, and returns the final result.</summary>
    public async Task<TaskResult> ReadToEndAsync(CancellationToken cancellationToken = default)
    {
        await foreach (var _ in this.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
        }

        return await Result.ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The stream was already enumerated.</exception>
    public async IAsyncEnumerator<TChunk> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _enumerated, 1) != 0)
        {
            throw new InvalidOperationException("A task stream can be enumerated once.");
        }

        IAsyncEnumerator<TaskStreamItem> items;
        try
        {
            items = (await _open(cancellationToken).ConfigureAwait(false)).GetAsyncEnumerator(cancellationToken);
        }
        catch (Exception ex)
        {
            _result.TrySetException(ex);
            throw;
        }

        await using (items.ConfigureAwait(false))
        {
            while (true)
            {
                TChunk chunk;
                try
                {
                    if (!await items.MoveNextAsync().ConfigureAwait(false))
                    {
                        throw new InvalidOperationException("The hub ended the stream without a final result.");
                    }

                    if (items.Current.Result is { } result)
                    {
                        _result.TrySetResult(result);
                        yield break;
                    }

                    chunk = _serializer.Deserialize<TChunk>(items.Current.Chunk)!;
                    ChunkCount++;
                }
                catch (Exception ex)
                {
                    _result.TrySetException(ex);
                    throw;
                }

                yield return chunk;
            }
        }
    }
}
