using Aicp.Hub.Routing;
using Aicp.Protocol;

namespace Aicp.Hub.Dispatch;

/// <summary>
/// One submitted task on one capability while the dispatcher works on it: its settings, its deadline, the agents it
/// tried and the route entries of its attempts. A task with fallbacks runs one after another on each capability of its
/// chain (<see cref="Next"/>): the hops share the task's id, start, deadline and route, and number their attempts on
/// from the previous hop's, so no two attempts of a task have the same number. Attempts are started by one flow at a
/// time (the failover loop, or the hedging round on its behalf); route entries may be added by two attempts ending at
/// once (a hedge and the attempt it hedged), so adding one takes the list's lock.
/// </summary>
internal sealed class TaskRun(string taskId, TaskRequest request, string method, IRoutingStrategy strategy, int timeoutMs, int maxAttempts,
    long started, long deadline, CapabilityDispatch? dispatch, CancellationToken cancellationToken, TaskStream? stream = null,
    bool hasChain = false, IntentMatch? intent = null, int attemptsBefore = 0, List<RouteEntry>? route = null, int numbersBefore = 0)
{
    private readonly string[] _tried = new string[maxAttempts];
    private int _started;
    private int _numbered;
    private readonly List<RouteEntry> _route = route ?? new(maxAttempts);

    public string TaskId { get; } = taskId;

    public TaskRequest Request { get; } = request;

    /// <summary>The capability this run sends the task to: the request's, or a fallback's.</summary>
    public string Method { get; } = method;

    /// <summary>True when the task has fallbacks: its route entries then name their capability.</summary>
    public bool HasChain { get; } = hasChain;

    /// <summary>True for the one attempt this node runs on its agent for a task of another node of a cluster.</summary>
    public bool ForPeer { get; init; }

    /// <summary>How a router method classified the task; null when it was sent to a capability.</summary>
    public IntentMatch? Intent { get; } = intent;

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

    /// <summary>Attempts started so far on this capability (not counting those another node refused to run).</summary>
    public int Attempts => _started;

    /// <summary>Attempts another node refused to run (its agent was full or gone): they ran nowhere and do not count.</summary>
    public int Refusals { get; private set; }

    /// <summary>Attempts started so far for the task, on every capability of its chain.</summary>
    public int TotalAttempts => attemptsBefore + Attempts;

    public int AttemptsLeft => MaxAttempts - Attempts;

    /// <summary>The agents this task was sent to, in order: no attempt goes to one of them again.</summary>
    public ReadOnlyMemory<string> Tried => _tried.AsMemory(0, _started);

    public IReadOnlyList<RouteEntry> Route => _route;

    /// <summary>Records an attempt on <paramref name="agentId"/> and returns its number in the task (1 for the first).</summary>
    public int StartAttempt(string agentId)
    {
        _tried[_started++] = agentId;
        return numbersBefore + ++_numbered;
    }

    /// <summary>
    /// The last attempt did not run: another node refused it (its agent was full, or had left). It does not count, and
    /// its agent may be picked again; its number is not reused.
    /// </summary>
    public void Refused()
    {
        _started--;
        Refusals++;
    }

    /// <summary>The run of the same task on the next capability of its chain, with that capability's settings.</summary>
    public TaskRun Next(string nextMethod, IRoutingStrategy nextStrategy, int nextTimeoutMs, int nextMaxAttempts, CapabilityDispatch? nextDispatch) =>
        new(TaskId, Request, nextMethod, nextStrategy, nextTimeoutMs, nextMaxAttempts, Started, Deadline, nextDispatch, CancellationToken, Stream,
            hasChain: true, Intent, TotalAttempts, _route, numbersBefore + _numbered);

    public void AddRoute(RouteEntry entry)
    {
        lock (_route)
        {
            _route.Add(entry);
        }
    }
}
