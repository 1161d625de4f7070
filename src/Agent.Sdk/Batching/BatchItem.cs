using System.Text.Json;
using Aicp.Agent.Sdk.Agent;

namespace Aicp.Agent.Sdk.Batching;

/// <summary>
/// One task inside a batch. The batch handler sets each item's outcome with <see cref="Succeed"/> or
/// <see cref="Fail"/>; an item left unset fails with <c>batch_item_unanswered</c>.
/// </summary>
public sealed class BatchItem
{
    private readonly TaskCompletionSource<JsonElement> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal BatchItem(AgentTaskContext task, CancellationToken cancellationToken)
    {
        Task = task;
        CancellationToken = cancellationToken;
    }

    public AgentTaskContext Task { get; }

    /// <summary>Cancelled when the hub cancels this one task; the rest of the batch is unaffected.</summary>
    public CancellationToken CancellationToken { get; }

    internal Task<JsonElement> Outcome => _outcome.Task;

    public void Succeed(JsonElement result) => _outcome.TrySetResult(result);

    public void Succeed<T>(T result) => _outcome.TrySetResult(JsonSerializer.SerializeToElement(result, AgentJson.Options));

    public void Fail(string code, string message) => _outcome.TrySetException(new AgentTaskException(code, message));

    internal void Fail(Exception exception) => _outcome.TrySetException(exception);
}
