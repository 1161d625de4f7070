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

    /// <summary>
    /// submitter -> hub: run a task and stream its output; a SignalR stream of <see cref="TaskStreamItem"/>s: the chunks
    /// as the agent sends them, then exactly one item carrying the final <see cref="TaskResult"/>.
    /// </summary>
    public const string SubmitStream = nameof(SubmitStream);

    /// <summary>
    /// agent -> hub: one chunk of a streamed task's output (<see cref="TaskPartial"/>); returns true when the chunk was
    /// taken for the submitter, false when the attempt no longer takes output. Send one at a time per task, awaiting each.
    /// </summary>
    public const string Partial = nameof(Partial);

    /// <summary>hub -> agent: run this assignment.</summary>
    public const string Execute = nameof(Execute);

    /// <summary>hub -> agent: abandon this task id.</summary>
    public const string Cancel = nameof(Cancel);
}

/// <summary>Final task statuses.</summary>
public static class TaskStatuses
{
    /// <summary>An agent returned a result.</summary>
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
    /// <summary>The agent returned a result.</summary>
    public const string Completed = "completed";

    /// <summary>The agent reported an error.</summary>
    public const string Error = "error";

    /// <summary>The agent did not answer within the attempt's timeout.</summary>
    public const string Timeout = "timeout";

    /// <summary>The agent's connection ended before it answered.</summary>
    public const string Disconnected = "disconnected";

    /// <summary>The submitter went away (or cancelled) while the attempt ran.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>Another attempt of the same task (a hedge, or the attempt it hedged) finished first; this one was cancelled.</summary>
    public const string Superseded = "superseded";

    /// <summary>
    /// Not an attempt: a capability of a task's fallback chain that sent it nowhere (no agent could take it; the
    /// entry's error says why) before the task moved to the next one. The entry's agent id is empty.
    /// </summary>
    public const string Skipped = "skipped";
}

/// <summary>Machine-readable error codes carried in <see cref="TaskError.Code"/>.</summary>
public static class ErrorCodes
{
    /// <summary>The method (capability) name does not match the name grammar.</summary>
    public const string InvalidMethod = "invalid_method";

    /// <summary>The agent id does not match the name grammar.</summary>
    public const string InvalidAgentId = "invalid_agent_id";

    /// <summary>The request is missing or malformed.</summary>
    public const string InvalidRequest = "invalid_request";

    /// <summary>The request names a routing strategy the hub does not know.</summary>
    public const string UnknownStrategy = "unknown_strategy";

    /// <summary>The request's timeout is outside 1 .. 600,000 ms.</summary>
    public const string InvalidTimeout = "invalid_timeout";

    /// <summary>The request's maxAttempts is outside 1 .. 10.</summary>
    public const string InvalidMaxAttempts = "invalid_max_attempts";

    /// <summary>The registration's maxConcurrency is outside 1 .. 100,000.</summary>
    public const string InvalidConcurrency = "invalid_concurrency";

    /// <summary>The registration names more than 256 capabilities.</summary>
    public const string TooManyCapabilities = "too_many_capabilities";

    /// <summary>No agent serves the capability (or none is left untried).</summary>
    public const string NoAgents = "no_agents";

    /// <summary>The agent reported an error without a code of its own.</summary>
    public const string AgentError = "agent_error";

    /// <summary>The agent did not answer within the attempt's timeout.</summary>
    public const string AgentTimeout = "agent_timeout";

    /// <summary>The agent's connection ended before it answered.</summary>
    public const string AgentDisconnected = "agent_disconnected";

    /// <summary>The task waited for a free agent slot until its timeout passed.</summary>
    public const string QueueTimeout = "queue_timeout";

    /// <summary>The capability's wait queue is full.</summary>
    public const string Overloaded = "overloaded";

    /// <summary>The submitter cancelled the task (or disconnected).</summary>
    public const string Cancelled = "cancelled";

    /// <summary>The hub could not send the assignment to the agent.</summary>
    public const string SendFailed = "send_failed";

    /// <summary>The agent has no handler for the method (raised by the Agent.Sdk).</summary>
    public const string HandlerNotFound = "handler_not_found";

    /// <summary>The agent's handler threw (raised by the Agent.Sdk).</summary>
    public const string HandlerException = "handler_exception";

    /// <summary>The payload does not bind to what the agent's handler takes (raised by the Agent.Sdk).</summary>
    public const string InvalidPayload = "invalid_payload";

    /// <summary>A batch handler returned without an outcome for this task (raised by the Agent.Sdk).</summary>
    public const string BatchItemUnanswered = "batch_item_unanswered";

    /// <summary>The caller's credentials do not allow this call (role, or agent id / capability binding); HTTP 403 on a route.</summary>
    public const string Forbidden = "forbidden";

    /// <summary>
    /// A route or the hub endpoint refused the request for want of an accepted credential: none was presented, or the hub
    /// does not accept it (HTTP 401, in the <see cref="ProtocolDefaults.ErrorCodeHeader"/> header).
    /// </summary>
    public const string Unauthorized = "unauthorized";

    /// <summary>The task payload's JSON is larger than the hub's limit.</summary>
    public const string PayloadTooLarge = "payload_too_large";

    /// <summary>The submitter's token bucket is empty.</summary>
    public const string RateLimited = "rate_limited";

    /// <summary>
    /// A connection refused because its credential, or the hub as a whole, has as many connections open as allowed
    /// (HTTP 429 or 503 at the WebSocket upgrade, in the <see cref="ProtocolDefaults.ErrorCodeHeader"/> header).
    /// </summary>
    public const string ConnectionLimit = "connection_limit";

    /// <summary>The hub closed the connection because its API key was removed or changed (the close message's error).</summary>
    public const string CredentialRevoked = "credential_revoked";

    /// <summary>The request's deadlineMs is outside 1 .. 3,600,000.</summary>
    public const string InvalidDeadline = "invalid_deadline";

    /// <summary>Another hub node of a cluster could not run an attempt on its agent (full, draining, gone); the task picked again.</summary>
    public const string RemoteRefused = "remote_refused";

    /// <summary>The request's <c>fallbacks</c> are not a list of at most 8 distinct capability names other than its method.</summary>
    public const string InvalidFallbacks = "invalid_fallbacks";

    /// <summary>Refused at once: the predicted wait plus service time exceeds the task's deadline.</summary>
    public const string DeadlineUnreachable = "deadline_unreachable";

    /// <summary>The task's deadline passed while it waited for an agent or between attempts; it was not sent again.</summary>
    public const string DeadlineExceeded = "deadline_exceeded";

    /// <summary>A failover was due but the capability's retry budget was spent; the task ends with its last attempt's status.</summary>
    public const string RetryBudgetExhausted = "retry_budget_exhausted";

    /// <summary>The attempt was cancelled because another attempt of the task finished first.</summary>
    public const string Superseded = "superseded";

    /// <summary>
    /// A streamed task's attempt ended without completing after some of its output had reached the submitter; a stream is
    /// not failed over once output was sent, so the task ended with the attempt's status.
    /// </summary>
    public const string StreamInterrupted = "stream_interrupted";

    /// <summary>The submitter of a streamed task did not read its output for the hub's stall timeout; the task was ended.</summary>
    public const string SlowConsumer = "slow_consumer";

    /// <summary>An agent sent a chunk larger than the hub's limit for one chunk; the attempt ended with this error.</summary>
    public const string ChunkTooLarge = "chunk_too_large";
}

/// <summary>Protocol-wide constants.</summary>
public static class ProtocolDefaults
{
    /// <summary>The hub's endpoint path.</summary>
    public const string HubPath = "/aicp";

    /// <summary>Per-attempt timeout when a request sets none: 30 s.</summary>
    public const int TimeoutMs = 30_000;

    /// <summary>Shortest per-attempt timeout a request may set: 1 ms.</summary>
    public const int MinTimeoutMs = 1;

    /// <summary>Longest per-attempt timeout a request may set: 10 minutes.</summary>
    public const int MaxTimeoutMs = 600_000;

    /// <summary>Attempts when a request sets none: 3.</summary>
    public const int MaxAttempts = 3;

    /// <summary>Most attempts a request may ask for: 10.</summary>
    public const int MaxAttemptsLimit = 10;

    /// <summary>Longest end-to-end deadline a request may set: one hour.</summary>
    public const int MaxDeadlineMs = 3_600_000;

    /// <summary>Most capabilities a task may fall back to after its own (a request's <c>fallbacks</c>, or a whole chain in the routing file): 8.</summary>
    public const int MaxFallbacks = 8;

    /// <summary>Most capabilities one agent may register: 256.</summary>
    public const int MaxCapabilitiesPerAgent = 256;

    /// <summary>Largest maxConcurrency an agent may register: 100,000.</summary>
    public const int MaxConcurrencyLimit = 100_000;

    /// <summary>Largest task payload or result, measured on its JSON text: 1 MiB.</summary>
    public const int MaxPayloadBytes = 1 << 20;

    /// <summary>Query-string parameter that carries a bearer token for clients that cannot set headers (browsers).</summary>
    public const string AccessTokenQueryParameter = "access_token";

    /// <summary>HTTP response header that carries an <see cref="ErrorCodes"/> value when the hub refuses a connection.</summary>
    public const string ErrorCodeHeader = "Aicp-Error-Code";
}
