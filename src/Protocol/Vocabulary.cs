namespace Aicp.Protocol;

/// <summary>Hub method and client callback names. Any SignalR client speaks them by these names.</summary>
public static class HubMethods
{
    /// <summary>agent -> hub: register or re-register capabilities; returns <see cref="RegistrationAck"/>.</summary>
    public const string Register = nameof(Register);

    /// <summary>agent -> hub: the outcome of one assignment.</summary>
    public const string Complete = nameof(Complete);

    /// <summary>agent -> hub: send me no new tasks; in-flight ones finish.</summary>
    public const string Drain = nameof(Drain);

    /// <summary>agent -> hub: the agent's own view of its load (<see cref="AgentLoadReport"/>); returns true when recorded.</summary>
    public const string ReportLoad = nameof(ReportLoad);

    /// <summary>submitter -> hub: run a task; returns the final <see cref="TaskResult"/>.</summary>
    public const string Submit = nameof(Submit);

    /// <summary>hub -> agent: run this assignment.</summary>
    public const string Execute = nameof(Execute);

    /// <summary>hub -> agent: abandon this task id.</summary>
    public const string Cancel = nameof(Cancel);
}

/// <summary>Final task statuses.</summary>
public static class TaskStatuses
{
    public const string Completed = "completed";

    /// <summary>The last attempt ended in an agent error (or the agent disconnected) and no attempt was left.</summary>
    public const string Failed = "failed";

    /// <summary>The last attempt timed out, or no agent slot freed up before the deadline.</summary>
    public const string Timeout = "timeout";

    /// <summary>No live agent serves the method.</summary>
    public const string NoAgents = "no_agents";

    /// <summary>The request was invalid; <see cref="TaskResult.Error"/> says why.</summary>
    public const string Rejected = "rejected";

    /// <summary>The capability's wait queue was full.</summary>
    public const string Overloaded = "overloaded";

    /// <summary>The submitter went away or cancelled before a result.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>The submitter exceeded its rate limit; the task was not run. Retry later.</summary>
    public const string RateLimited = "rate_limited";
}

/// <summary>How one attempt ended.</summary>
public static class AttemptOutcomes
{
    public const string Completed = "completed";
    public const string Error = "error";
    public const string Timeout = "timeout";
    public const string Disconnected = "disconnected";
    public const string Cancelled = "cancelled";

    /// <summary>Another attempt of the same task (a hedge, or the attempt it hedged) finished first; this one was cancelled.</summary>
    public const string Superseded = "superseded";
}

/// <summary>Machine-readable error codes carried in <see cref="TaskError.Code"/>.</summary>
public static class ErrorCodes
{
    public const string InvalidMethod = "invalid_method";
    public const string InvalidAgentId = "invalid_agent_id";
    public const string InvalidRequest = "invalid_request";
    public const string UnknownStrategy = "unknown_strategy";
    public const string InvalidTimeout = "invalid_timeout";
    public const string InvalidMaxAttempts = "invalid_max_attempts";
    public const string InvalidConcurrency = "invalid_concurrency";
    public const string TooManyCapabilities = "too_many_capabilities";
    public const string NoAgents = "no_agents";
    public const string AgentError = "agent_error";
    public const string AgentTimeout = "agent_timeout";
    public const string AgentDisconnected = "agent_disconnected";
    public const string QueueTimeout = "queue_timeout";
    public const string Overloaded = "overloaded";
    public const string Cancelled = "cancelled";
    public const string SendFailed = "send_failed";
    public const string HandlerNotFound = "handler_not_found";
    public const string HandlerException = "handler_exception";

    /// <summary>The caller's credentials do not allow this call (role, or agent id / capability binding).</summary>
    public const string Forbidden = "forbidden";

    /// <summary>The task payload's JSON is larger than the hub's limit.</summary>
    public const string PayloadTooLarge = "payload_too_large";

    /// <summary>The submitter's token bucket is empty.</summary>
    public const string RateLimited = "rate_limited";

    public const string InvalidDeadline = "invalid_deadline";

    /// <summary>Refused at once: the predicted wait plus service time exceeds the task's deadline.</summary>
    public const string DeadlineUnreachable = "deadline_unreachable";

    /// <summary>The task's deadline passed while it waited for an agent or between attempts; it was not sent again.</summary>
    public const string DeadlineExceeded = "deadline_exceeded";

    /// <summary>A failover was due but the capability's retry budget was spent; the task ends with its last attempt's status.</summary>
    public const string RetryBudgetExhausted = "retry_budget_exhausted";

    /// <summary>The attempt was cancelled because another attempt of the task finished first.</summary>
    public const string Superseded = "superseded";
}

/// <summary>Protocol-wide constants.</summary>
public static class ProtocolDefaults
{
    /// <summary>The hub's endpoint path.</summary>
    public const string HubPath = "/aicp";

    /// <summary>Per-attempt timeout when a request sets none: 30 s.</summary>
    public const int TimeoutMs = 30_000;

    public const int MinTimeoutMs = 1;
    public const int MaxTimeoutMs = 600_000;

    /// <summary>Attempts when a request sets none: 3.</summary>
    public const int MaxAttempts = 3;

    public const int MaxAttemptsLimit = 10;

    /// <summary>Longest end-to-end deadline a request may set: one hour.</summary>
    public const int MaxDeadlineMs = 3_600_000;
    public const int MaxCapabilitiesPerAgent = 256;
    public const int MaxConcurrencyLimit = 100_000;

    /// <summary>Largest task payload or result, measured on its JSON text: 1 MiB.</summary>
    public const int MaxPayloadBytes = 1 << 20;

    /// <summary>Query-string parameter that carries a bearer token for clients that cannot set headers (browsers).</summary>
    public const string AccessTokenQueryParameter = "access_token";
}
