using System.Collections.Concurrent;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Registry;
using Aicp.Protocol;

namespace Aicp.Tests.Infrastructure;

/// <summary>
/// An agent channel that records what the dispatcher sends instead of sending it; sends to the agents in
/// <see cref="Unreachable"/> throw, as a write to a broken connection does.
/// </summary>
internal sealed class RecordingAgentChannel : IAgentChannel
{
    private readonly ConcurrentQueue<(AgentState Agent, TaskAssignment Assignment)> _sent = new();

    public ConcurrentBag<(string AgentId, string TaskId)> Cancelled { get; } = [];

    /// <summary>Agents whose Execute sends throw.</summary>
    public ConcurrentDictionary<string, bool> Unreachable { get; } = new();

    public bool IsEmpty => _sent.IsEmpty;

    public int Count => _sent.Count;

    public Task SendExecuteAsync(AgentState agent, TaskAssignment assignment)
    {
        if (Unreachable.ContainsKey(agent.AgentId))
        {
            throw new IOException($"The connection of {agent.AgentId} is broken.");
        }

        _sent.Enqueue((agent, assignment));
        return Task.CompletedTask;
    }

    /// <summary>Agents whose Cancel sends throw.</summary>
    public ConcurrentDictionary<string, bool> CancelUnreachable { get; } = new();

    public Task SendCancelAsync(AgentState agent, string taskId)
    {
        if (CancelUnreachable.ContainsKey(agent.AgentId))
        {
            throw new IOException($"The connection of {agent.AgentId} is broken.");
        }

        Cancelled.Add((agent.AgentId, taskId));
        return Task.CompletedTask;
    }

    /// <summary>The next assignment sent, waiting (bounded) for it.</summary>
    public async Task<(AgentState Agent, TaskAssignment Assignment)> NextAsync()
    {
        await WaitForSendsAsync(1);
        return Take();
    }

    public Task WaitForSendsAsync(int count) => TestTimeouts.Eventually(() => _sent.Count >= count, $"{count} assignment(s) sent");

    public (AgentState Agent, TaskAssignment Assignment) Take()
    {
        Assert.True(_sent.TryDequeue(out var sent), "an assignment was sent");
        return sent;
    }
}
