using Aicp.Hub.Routing;
using Aicp.Protocol;

namespace Aicp.Hub.Dispatch;

/// <summary>
/// One submitted task while the dispatcher works on it: its settings, its deadline, the agents it tried and the route
/// entries of its attempts. Attempts are started by one flow at a time (the failover loop, or the hedging round on its
/// behalf); route entries may be added by two attempts ending at once (a hedge and the attempt it hedged), so adding
/// one takes the list's lock.
/// </summary>
internal sealed class TaskRun(string taskId, TaskRequest request, IRoutingStrategy strategy, int timeoutMs, int maxAttempts,
    long started, long deadline, CapabilityDispatch? dispatch, CancellationToken cancellationToken, TaskStream? stream = null)
{
    private readonly string[] _tried = new string[maxAttempts];
    private readonly List<RouteEntry> _route = new(maxAttempts);

    public string TaskId { get; } = taskId;

    public TaskRequest Request { get; } = request;

    public string Method => Request.Method;

    public IRoutingStrategy Strategy { get; } = strategy;

    /// <summary>The per-attempt timeout the request asked for.</summary>
    public int TimeoutMs { get; } = timeoutMs;

    public int MaxAttempts { get; } = maxAttempts;

    /// <summary>When the hub received the task (a timestamp of the dispatcher's clock).</summary>
    public long Started { get; } = started;

    /// <summary>The end-to-end deadline as a timestamp, or <see cref="long.MaxValue"/> without one.</summary>
    public long Deadline { get; } = deadline;

    public bool HasDeadline => Deadline != long.MaxValue;

    /// <summary>The capability's budgets and latencies when it had agents at submission; null otherwise.</summary>
    public CapabilityDispatch? Dispatch { get; } = dispatch;

    /// <summary>The submitter's cancellation (its connection went away), or, for a stream, the stream's (<see cref="TaskStream.Token"/>).</summary>
    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>The task's stream when its submitter reads partial output; null otherwise.</summary>
    public TaskStream? Stream { get; } = stream;

    /// <summary>Attempts started so far.</summary>
    public int Attempts { get; private set; }

    public int AttemptsLeft => MaxAttempts - Attempts;

    /// <summary>The agents this task was sent to, in order: no attempt goes to one of them again.</summary>
    public ReadOnlyMemory<string> Tried => _tried.AsMemory(0, Attempts);

    public IReadOnlyList<RouteEntry> Route => _route;

    /// <summary>Records an attempt on <paramref name="agentId"/> and returns its number (1 for the first).</summary>
    public int StartAttempt(string agentId)
    {
        _tried[Attempts] = agentId;
        return ++Attempts;
    }

    public void AddRoute(RouteEntry entry)
    {
        lock (_route)
        {
            _route.Add(entry);
        }
    }
}
