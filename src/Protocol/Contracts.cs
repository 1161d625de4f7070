using System.Text.Json.Serialization;
using Aicp.Protocol.Serialization;
using MessagePack;

namespace Aicp.Protocol;

// The wire contracts. JSON peers see camelCase names (the hub protocols' naming policy); MessagePack peers see the
// same names, because every contract is a [MessagePackObject] with explicit keys. Over MessagePack, nulls are
// written as nil; over JSON the hub and the SDK leave them out.

/// <summary>What an agent sends in <c>Register</c>: who it is and what it can do.</summary>
[MessagePackObject]
public sealed class AgentRegistration
{
    /// <summary>Unique among live agents; a second connection with the same id replaces the first.</summary>
    [Key("agentId")]
    public string AgentId { get; init; } = "";

    /// <summary>Capability (method) names the agent serves, e.g. <c>image.label</c>.</summary>
    [Key("capabilities")]
    public IReadOnlyList<string> Capabilities { get; init; } = [];

    /// <summary>Most tasks the hub may have in flight on this agent at once. The default value is 1.</summary>
    [Key("maxConcurrency")]
    public int MaxConcurrency { get; init; } = 1;

    /// <summary>Free-form descriptive key/value pairs (model, device, version...).</summary>
    [Key("metadata")]
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}

/// <summary>The hub's answer to <c>Register</c>.</summary>
[MessagePackObject]
public sealed class RegistrationAck
{
    /// <summary>True when the hub registered the agent; false with <see cref="Error"/> otherwise.</summary>
    [Key("accepted")]
    public bool Accepted { get; init; }
    /// <summary>The agent id the registration was for.</summary>
    [Key("agentId")]
    public string AgentId { get; init; } = "";
    /// <summary>The capabilities registered (normalized: distinct, in the order given).</summary>
    [Key("capabilities")]
    public IReadOnlyList<string> Capabilities { get; init; } = [];
    /// <summary>The most tasks the hub will have in flight on the agent.</summary>
    [Key("maxConcurrency")]
    public int MaxConcurrency { get; init; }

    /// <summary>True when this registration replaced a live connection with the same agent id.</summary>
    [Key("replaced")]
    public bool Replaced { get; init; }

    /// <summary>Why the registration was refused (e.g. <c>forbidden</c>, <c>invalid_agent_id</c>); null when accepted.</summary>
    [Key("error")]
    public TaskError? Error { get; init; }
}

/// <summary>What a submitter sends in <c>Submit</c>.</summary>
[MessagePackObject]
public sealed class TaskRequest
{
    /// <summary>The capability to invoke.</summary>
    [Key("method")]
    public string Method { get; init; } = "";

    /// <summary>Any value; passed to the agent as the submitter encoded it (see <see cref="TaskPayload"/>).</summary>
    [Key("payload")]
    public TaskPayload? Payload { get; init; }

    /// <summary>Routing strategy name; the hub's default when absent.</summary>
    [Key("strategy")]
    public string? Strategy { get; init; }

    /// <summary>Per-attempt timeout in milliseconds (1 .. 600,000). The default value is 30,000.</summary>
    [Key("timeoutMs")]
    public int? TimeoutMs { get; init; }

    /// <summary>Most attempts, each on a different agent (1 .. 10). The default value is 3.</summary>
    [Key("maxAttempts")]
    public int? MaxAttempts { get; init; }

    /// <summary>
    /// End-to-end deadline in milliseconds from when the hub receives the task (1 .. 3,600,000), over all attempts and
    /// waiting. None by default: each attempt has <see cref="TimeoutMs"/>.
    /// </summary>
    [Key("deadlineMs")]
    public int? DeadlineMs { get; init; }

    /// <summary>
    /// Capabilities to try in order when <see cref="Method"/> has no agent to take the task, or when all its attempts
    /// failed (at most 8, distinct, not the method itself). Replaces the capability's chain in the routing file.
    /// </summary>
    [Key("fallbacks")]
    public string[]? Fallbacks { get; init; }
}

/// <summary>What the hub sends an agent in <c>Execute</c>.</summary>
[MessagePackObject]
public sealed class TaskAssignment
{
    /// <summary>The task's id, the same in every attempt.</summary>
    [Key("taskId")]
    public string TaskId { get; init; } = "";

    /// <summary>1 for the first dispatch, higher after failovers.</summary>
    [Key("attempt")]
    public int Attempt { get; init; }

    /// <summary>The capability to run.</summary>
    [Key("method")]
    public string Method { get; init; } = "";

    /// <summary>The submitter's payload, as it sent it.</summary>
    [Key("payload")]
    public TaskPayload? Payload { get; init; }

    /// <summary>How long the hub waits for this attempt, in milliseconds.</summary>
    [Key("timeoutMs")]
    public int TimeoutMs { get; init; }

    /// <summary>
    /// True when the submitter reads partial output (<c>SubmitStream</c>): the agent may send chunks with <c>Partial</c>
    /// before its <c>Complete</c>. Null otherwise: chunks would be discarded.
    /// </summary>
    [Key("stream")]
    public bool? Stream { get; init; }
}

/// <summary>What an agent sends in <c>Partial</c>: one chunk of a task's output, before its completion.</summary>
[MessagePackObject]
public sealed class TaskPartial
{
    /// <summary>The task id of the assignment this chunk belongs to.</summary>
    [Key("taskId")]
    public string TaskId { get; init; } = "";

    /// <summary>The attempt number of the assignment this chunk belongs to.</summary>
    [Key("attempt")]
    public int Attempt { get; init; }

    /// <summary>The chunk, passed to the submitter as the agent encoded it.</summary>
    [Key("chunk")]
    public TaskPayload? Chunk { get; init; }
}

/// <summary>
/// One item of a <c>SubmitStream</c>: a chunk of the task's output (<see cref="Chunk"/>, numbered by <see cref="Seq"/>), or,
/// as the last item and only then, the task's one final result (<see cref="Result"/>).
/// </summary>
[MessagePackObject]
public sealed class TaskStreamItem
{
    /// <summary>The task's id.</summary>
    [Key("taskId")]
    public string TaskId { get; init; } = "";

    /// <summary>The chunk's number, from 0, over the whole task; null on the final item.</summary>
    [Key("seq")]
    public int? Seq { get; init; }

    /// <summary>A chunk of the agent's output, as the agent encoded it; null on the final item.</summary>
    [Key("chunk")]
    public TaskPayload? Chunk { get; init; }

    /// <summary>The task's final result: set on the last item of the stream, null on every chunk.</summary>
    [Key("result")]
    public TaskResult? Result { get; init; }
}

/// <summary>What an agent sends in <c>Complete</c> when it finishes an assignment.</summary>
[MessagePackObject]
public sealed class TaskCompletion
{
    /// <summary>The task id of the assignment this completes.</summary>
    [Key("taskId")]
    public string TaskId { get; init; } = "";

    /// <summary>The attempt number of the assignment this completes.</summary>
    [Key("attempt")]
    public int Attempt { get; init; }

    /// <summary>True for a result, false for an error.</summary>
    [Key("ok")]
    public bool Ok { get; init; }

    /// <summary>The agent's result, passed to the submitter as the agent encoded it.</summary>
    [Key("result")]
    public TaskPayload? Result { get; init; }

    /// <summary>The error when <see cref="Ok"/> is false.</summary>
    [Key("error")]
    public TaskError? Error { get; init; }
}

/// <summary>A machine-readable error code and a human message.</summary>
[MessagePackObject]
public sealed class TaskError
{
    /// <summary>A machine-readable code, e.g. <c>agent_timeout</c> (see <see cref="ErrorCodes"/>), or an agent's own.</summary>
    [Key("code")]
    public string Code { get; init; } = "";
    /// <summary>What happened, for people.</summary>
    [Key("message")]
    public string Message { get; init; } = "";

    /// <summary>An error with <paramref name="code"/> and <paramref name="message"/>.</summary>
    public static TaskError Of(string code, string message) => new() { Code = code, Message = message };
}

/// <summary>One attempt of a task, as reported in <see cref="TaskResult.Route"/>.</summary>
[MessagePackObject]
public sealed class RouteEntry
{
    /// <summary>The agent the attempt went to.</summary>
    [Key("agentId")]
    public string AgentId { get; init; } = "";

    /// <summary>The capability the attempt ran on; set only for a task with fallbacks (null otherwise: the request's method).</summary>
    [Key("method")]
    public string? Method { get; init; }

    /// <summary>The hub node that holds the agent, for an attempt sent to another node of a cluster; null for this node's own agents.</summary>
    [Key("node")]
    public string? Node { get; init; }

    /// <summary>One of <see cref="AttemptOutcomes"/>.</summary>
    [Key("outcome")]
    public string Outcome { get; init; } = "";

    /// <summary>Milliseconds from dispatch to the attempt's end.</summary>
    [Key("ms")]
    public double Ms { get; init; }

    /// <summary>Strategy that chose this agent.</summary>
    [Key("strategy")]
    public string? Strategy { get; init; }

    /// <summary>Agents that were eligible when the choice was made.</summary>
    [Key("candidates")]
    public int Candidates { get; init; }

    /// <summary>The chosen agent's pending count at the moment it was picked (before this task).</summary>
    [Key("pending")]
    public int Pending { get; init; }

    /// <summary>The chosen agent's latency estimate for the method at pick time, in milliseconds.</summary>
    [Key("latencyEstimateMs")]
    public double LatencyEstimateMs { get; init; }

    /// <summary>
    /// The chosen agent's predicted completion time for this task at pick time, in milliseconds: its service-time model
    /// at its load then (pending plus reported queue).
    /// </summary>
    [Key("predictedMs")]
    public double? PredictedMs { get; init; }

    /// <summary>The chosen agent's trust score at pick time.</summary>
    [Key("trust")]
    public double Trust { get; init; }

    /// <summary>The chosen agent's circuit state at pick time: <c>closed</c>, <c>half-open</c> (a probe) or <c>open</c> (only when every agent was open).</summary>
    [Key("circuit")]
    public string? Circuit { get; init; }

    /// <summary>The chosen agent's success rate over the breaker's rolling window at pick time.</summary>
    [Key("successRate")]
    public double? SuccessRate { get; init; }

    /// <summary>The chosen agent's slow-start factor at pick time (1 once ramped up).</summary>
    [Key("slowStart")]
    public double? SlowStart { get; init; }

    /// <summary>True when the attempt was a hedge: sent while an earlier attempt of the task was still running.</summary>
    [Key("hedge")]
    public bool? Hedge { get; init; }

    /// <summary>The attempt's error, when it did not complete.</summary>
    [Key("error")]
    public TaskError? Error { get; init; }
}

/// <summary>The one final result the hub returns for a submitted task.</summary>
[MessagePackObject]
public sealed class TaskResult
{
    /// <summary>The task's id (a hub-assigned GUID in hex).</summary>
    [Key("taskId")]
    public string TaskId { get; init; } = "";

    /// <summary>One of <see cref="TaskStatuses"/>.</summary>
    [Key("status")]
    public string Status { get; init; } = "";

    /// <summary>The agent's result, as the agent encoded it.</summary>
    [Key("result")]
    public TaskPayload? Result { get; init; }

    /// <summary>Why the task did not complete; null when it did.</summary>
    [Key("error")]
    public TaskError? Error { get; init; }

    /// <summary>The agent that produced the final outcome, if any.</summary>
    [Key("agentId")]
    public string? AgentId { get; init; }

    /// <summary>How many attempts were made.</summary>
    [Key("attempts")]
    public int Attempts { get; init; }

    /// <summary>The routing strategy used.</summary>
    [Key("strategy")]
    public string Strategy { get; init; } = "";

    /// <summary>Milliseconds from submission to the final result.</summary>
    [Key("latencyMs")]
    public double LatencyMs { get; init; }

    /// <summary>One entry per attempt, in order.</summary>
    [Key("route")]
    [JsonConverter(typeof(RouteJsonConverter))]
    public IReadOnlyList<RouteEntry> Route { get; init; } = [];

    /// <summary>For a task sent to a router method: the rule that classified it and the capability it chose; null otherwise.</summary>
    [Key("intent")]
    public IntentMatch? Intent { get; init; }
}

/// <summary>How a router method classified a task (<see cref="TaskResult.Intent"/>).</summary>
[MessagePackObject]
public sealed class IntentMatch
{
    /// <summary>The router method the task was sent to.</summary>
    [Key("router")]
    public string Router { get; init; } = "";

    /// <summary>The rule that matched, or <c>default</c> when none did.</summary>
    [Key("rule")]
    public string Rule { get; init; } = "";

    /// <summary>The capability the task ran on (before any fallback).</summary>
    [Key("method")]
    public string Method { get; init; } = "";
}

/// <summary>What an agent tells the hub about its own load (<c>ReportLoad</c>), periodically or on change.</summary>
[MessagePackObject]
public sealed class AgentLoadReport
{
    /// <summary>Tasks the agent holds but has not started (its own queue, e.g. waiting for a batch or a device).</summary>
    [Key("queueDepth")]
    public int? QueueDepth { get; init; }

    /// <summary>Tasks the agent could start right now.</summary>
    [Key("freeSlots")]
    public int? FreeSlots { get; init; }

    /// <summary>Accelerator readings, when the agent has any.</summary>
    [Key("gpus")]
    public IReadOnlyList<GpuTelemetry>? Gpus { get; init; }
}

/// <summary>One GPU's state as read from the NVIDIA management library.</summary>
[MessagePackObject]
public sealed class GpuTelemetry
{
    /// <summary>The GPU index as NVML numbers it.</summary>
    [Key("index")]
    public int Index { get; init; }
    /// <summary>The GPU's product name.</summary>
    [Key("name")]
    public string Name { get; init; } = "";
    /// <summary>Device memory in use, in bytes.</summary>
    [Key("memoryUsedBytes")]
    public long MemoryUsedBytes { get; init; }
    /// <summary>Device memory in all, in bytes.</summary>
    [Key("memoryTotalBytes")]
    public long MemoryTotalBytes { get; init; }

    /// <summary>Percent of time a kernel ran over the driver's last sample period.</summary>
    [Key("utilizationPercent")]
    public int UtilizationPercent { get; init; }

    /// <summary>Core temperature in degrees Celsius, when readable.</summary>
    [Key("temperatureC")]
    public int? TemperatureC { get; init; }
}
