using System.Collections.Concurrent;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Registry;
using Aicp.Protocol;

namespace Aicp.Tests.Infrastructure;

/// <summary>An agent channel that records what the dispatcher sends instead of sending it.</summary>
internal sealed class RecordingAgentChannel : IAgentChannel
{
    private readonly ConcurrentQueue<(AgentState Agent, TaskAssignment Assignment)> _sent = new();

    public ConcurrentBag<(string AgentId, string TaskId)> Cancelled { get; } = [];

    public bool IsEmpty => _sent.IsEmpty;

    public Task SendExecuteAsync(AgentState agent, TaskAssignment assignment)
    {
        _sent.Enqueue((agent, assignment));
        return Task.CompletedTask;
    }

    public Task SendCancelAsync(AgentState agent, string taskId)
    {
        Cancelled.Add((agent.AgentId, taskId));
        return Task.CompletedTask;
    }

    public async Task<(AgentState Agent, TaskAssignment Assignment)> NextAsync()
    {
        await TestTimeouts.Eventually(() => !_sent.IsEmpty, "an assignment sent");
        Assert.True(_sent.TryDequeue(out var sent));
        return sent;
    }
}
