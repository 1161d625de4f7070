using Aicp.Hub.Registry;
using Aicp.Protocol;

namespace Aicp.Hub.Dispatch;

/// <summary>How one attempt ended. The first end reported wins; later ones are discarded.</summary>
/// <remarks><paramref name="Result"/>: the agent's result as it encoded it, passed on unconverted.</remarks>
internal readonly record struct AttemptEnd(string Outcome, TaskPayload? Result, TaskError? Error)
{
    public static readonly AttemptEnd TimedOut = new(AttemptOutcomes.Timeout, null, TaskError.Of(ErrorCodes.AgentTimeout, "The agent did not answer within the attempt timeout."));
    public static readonly AttemptEnd Lost = new(AttemptOutcomes.Disconnected, null, TaskError.Of(ErrorCodes.AgentDisconnected, "The agent disconnected before answering."));
    public static readonly AttemptEnd Cancelled = new(AttemptOutcomes.Cancelled, null, TaskError.Of(ErrorCodes.Cancelled, "The submitter cancelled the task."));
    public static readonly AttemptEnd Superseded = new(AttemptOutcomes.Superseded, null, TaskError.Of(ErrorCodes.Superseded, "Another attempt of the task finished first."));
}

/// <summary>
/// One dispatch of a task to one agent. Whoever ends it first (completion, timer, disconnect, cancel) decides the outcome.
/// The task's continuation runs inline on the thread that ends the attempt (no thread-pool hop): none of those callers
/// holds a lock, and what runs next (release the slot, record, pick again or return the result) never blocks.
/// </summary>
/// <param name="submitter">The submitter's cancellation: a cancel of the attempt's own token while this one is not cancelled means another attempt of the task won.</param>
/// <param name="stream">The task's stream when its submitter reads partial output; null otherwise.</param>
internal sealed class Attempt(string taskId, int number, string method, AgentState agent, CancellationToken submitter, TaskStream? stream = null)
    : IAgentAssignment
{
    private readonly TaskCompletionSource<AttemptEnd> _end = new();

    public string TaskId { get; } = taskId;

    public int Number { get; } = number;

    public string Method { get; } = method;

    public AgentState Agent { get; } = agent;

    /// <summary>Where the attempt's chunks go, when the submitter streams.</summary>
    public TaskStream? Stream { get; } = stream;

    public Task<AttemptEnd> Ended => _end.Task;

    public bool TryEnd(AttemptEnd end) => _end.TrySetResult(end);

    public void OnAgentLost() => TryEnd(AttemptEnd.Lost);

    /// <summary>The attempt's token was cancelled: by the submitter (cancelled), or because another attempt of the task finished first (superseded).</summary>
    public void OnCancelled() => TryEnd(submitter.IsCancellationRequested ? AttemptEnd.Cancelled : AttemptEnd.Superseded);
}
