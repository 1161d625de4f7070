using Aicp.Protocol;

namespace Aicp.Agent.Sdk.Client;

/// <summary>
/// Thrown by <see cref="AicpTaskClient.SubmitAsync{TRequest, TResponse}"/> for a task that did not complete: what the hub
/// said, with the route of its attempts. The untyped <see cref="AicpTaskClient.SubmitAsync(string, object?, SubmitOptions?, CancellationToken)"/>
/// returns the same as a <see cref="TaskResult"/> instead.
/// </summary>
public sealed class AicpTaskFailedException(TaskResult result)
    : Exception($"Task {result.TaskId} ended {result.Status}{(result.Error is { } error ? $" ({error.Code}: {error.Message})" : "")}.")
{
    /// <summary>The final status.</summary>
    public AicpTaskStatus Status { get; } = result.GetStatus();

    /// <summary>The error code (e.g. <c>agent_timeout</c>, <c>unknown_strategy</c>), if any.</summary>
    public string? Code { get; } = result.Error?.Code;

    /// <summary>The hub's (or the agent's) error message, if any.</summary>
    public string? ErrorMessage { get; } = result.Error?.Message;

    /// <summary>The task's id.</summary>
    public string TaskId { get; } = result.TaskId;

    /// <summary>One entry per attempt: agent, outcome, time, error.</summary>
    public IReadOnlyList<RouteEntry> Route { get; } = result.Route;

    /// <summary>The whole result as the hub sent it.</summary>
    public TaskResult Result { get; } = result;
}
