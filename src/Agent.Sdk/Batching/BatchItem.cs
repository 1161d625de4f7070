using Aicp.Agent.Sdk.Agent;

namespace Aicp.Agent.Sdk.Batching;

/// <summary>
/// One task inside a batch. The batch handler sets each item's outcome with <see cref="Succeed"/> or
/// <see cref="Fail(string, string)"/>; an item left unset fails with <c>batch_item_unanswered</c>.
/// </summary>
/// <typeparam name="TRequest">What the task's payload bound to.</typeparam>
/// <typeparam name="TResponse">The task's result.</typeparam>
public sealed class BatchItem<TRequest, TResponse>
{
    private readonly TaskCompletionSource<TResponse> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal BatchItem(TRequest request, AgentTaskContext task, CancellationToken cancellationToken)
    {
        Request = request;
        Task = task;
        CancellationToken = cancellationToken;
    }

    /// <summary>The task's payload, bound.</summary>
    public TRequest Request { get; }

    /// <summary>The task itself (id, attempt, raw payload).</summary>
    public AgentTaskContext Task { get; }

    /// <summary>Cancelled when the hub cancels this one task; the rest of the batch is unaffected.</summary>
    public CancellationToken CancellationToken { get; }

    internal Task<TResponse> Outcome => _outcome.Task;

    /// <summary>Completes this task with <paramref name="result"/>.</summary>
    public void Succeed(TResponse result) => _outcome.TrySetResult(result);

    /// <summary>Fails this task with an error code and message.</summary>
    public void Fail(string code, string message) => _outcome.TrySetException(new AgentTaskException(code, message));

    internal void Fail(Exception exception) => _outcome.TrySetException(exception);
}
