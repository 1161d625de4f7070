using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aicp.Protocol;

/// <summary>What an agent sends in <c>Register</c>: who it is and what it can do.</summary>
public sealed class AgentRegistration
{
    /// <summary>Unique among live agents; a second connection with the same id replaces the first.</summary>
    public string AgentId { get; init; } = "";

    /// <summary>Capability (method) names the agent serves, e.g. <c>image.label</c>.</summary>
    public IReadOnlyList<string> Capabilities { get; init; } = [];

    /// <summary>Most tasks the hub may have in flight on this agent at once. The default value is 1.</summary>
    public int MaxConcurrency { get; init; } = 1;

    /// <summary>Free-form descriptive key/value pairs (model, device, version...).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}

/// <summary>The hub's answer to <c>Register</c>.</summary>
public sealed class RegistrationAck
{
    public bool Accepted { get; init; }
    public string AgentId { get; init; } = "";
    public IReadOnlyList<string> Capabilities { get; init; } = [];
    public int MaxConcurrency { get; init; }

    /// <summary>True when this registration replaced a live connection with the same agent id.</summary>
    public bool Replaced { get; init; }

    public TaskError? Error { get; init; }
}

/// <summary>What a submitter sends in <c>Submit</c>.</summary>
public sealed class TaskRequest : IRawMessagePackCarrier
{
    private readonly JsonElement _payload;
    private ReadOnlyMemory<byte>? _payloadMessagePack;
    private RawMessagePackView? _payloadView;

    /// <summary>The capability to invoke.</summary>
    public string Method { get; init; } = "";

    /// <summary>
    /// Any JSON value; passed to the agent as it is. When the payload arrived as MessagePack
    /// (<see cref="PayloadMessagePack"/>), this is its JSON view, converted on first read (bin becomes base64).
    /// </summary>
    public JsonElement Payload
    {
        get => RawMessagePackView.Json(_payload, _payloadMessagePack, ref _payloadView);
        init => _payload = value;
    }

    /// <summary>
    /// The payload as one MessagePack value, when it arrived over (or is to be sent with) the MessagePack protocol.
    /// The MessagePack protocol writes these bytes unchanged, so <c>bin</c> stays <c>bin</c>; the JSON protocol
    /// writes <see cref="Payload"/>. Takes precedence over <see cref="Payload"/> on a MessagePack connection.
    /// </summary>
    [JsonIgnore]
    public ReadOnlyMemory<byte>? PayloadMessagePack
    {
        get => _payloadMessagePack;
        init => _payloadMessagePack = value;
    }

    /// <summary>Routing strategy name; the hub's default when absent.</summary>
    public string? Strategy { get; init; }

    /// <summary>Per-attempt timeout in milliseconds (1 .. 600,000). The default value is 30,000.</summary>
    public int? TimeoutMs { get; init; }

    /// <summary>Most attempts, each on a different agent (1 .. 10). The default value is 3.</summary>
    public int? MaxAttempts { get; init; }

    ReadOnlyMemory<byte>? IRawMessagePackCarrier.RawMessagePack => _payloadMessagePack;

    void IRawMessagePackCarrier.AttachRawMessagePack(ReadOnlyMemory<byte> raw) => _payloadMessagePack = raw;
}

/// <summary>What the hub sends an agent in <c>Execute</c>.</summary>
public sealed class TaskAssignment : IRawMessagePackCarrier
{
    private readonly JsonElement _payload;
    private ReadOnlyMemory<byte>? _payloadMessagePack;
    private RawMessagePackView? _payloadView;

    public string TaskId { get; init; } = "";
    public int Attempt { get; init; }
    public string Method { get; init; } = "";

    /// <summary>The payload's JSON view (see <see cref="TaskRequest.Payload"/>).</summary>
    public JsonElement Payload
    {
        get => RawMessagePackView.Json(_payload, _payloadMessagePack, ref _payloadView);
        init => _payload = value;
    }

    /// <summary>The payload as one MessagePack value (see <see cref="TaskRequest.PayloadMessagePack"/>).</summary>
    [JsonIgnore]
    public ReadOnlyMemory<byte>? PayloadMessagePack
    {
        get => _payloadMessagePack;
        init => _payloadMessagePack = value;
    }

    public int TimeoutMs { get; init; }

    ReadOnlyMemory<byte>? IRawMessagePackCarrier.RawMessagePack => _payloadMessagePack;

    void IRawMessagePackCarrier.AttachRawMessagePack(ReadOnlyMemory<byte> raw) => _payloadMessagePack = raw;
}

/// <summary>What an agent sends in <c>Complete</c> when it finishes an assignment.</summary>
public sealed class TaskCompletion : IRawMessagePackCarrier
{
    private readonly JsonElement? _result;
    private ReadOnlyMemory<byte>? _resultMessagePack;
    private RawMessagePackView? _resultView;

    public string TaskId { get; init; } = "";
    public int Attempt { get; init; }
    public bool Ok { get; init; }

    /// <summary>The result's JSON view; converted on first read when it arrived as MessagePack (<see cref="ResultMessagePack"/>).</summary>
    public JsonElement? Result
    {
        get => RawMessagePackView.Json(_result, _resultMessagePack, ref _resultView);
        init => _result = value;
    }

    /// <summary>The result as one MessagePack value, written unchanged by the MessagePack protocol (see <see cref="TaskRequest.PayloadMessagePack"/>).</summary>
    [JsonIgnore]
    public ReadOnlyMemory<byte>? ResultMessagePack
    {
        get => _resultMessagePack;
        init => _resultMessagePack = value;
    }

    public TaskError? Error { get; init; }

    ReadOnlyMemory<byte>? IRawMessagePackCarrier.RawMessagePack => _resultMessagePack;

    void IRawMessagePackCarrier.AttachRawMessagePack(ReadOnlyMemory<byte> raw) => _resultMessagePack = raw;
}

/// <summary>A machine-readable error code and a human message.</summary>
public sealed class TaskError
{
    public string Code { get; init; } = "";
    public string Message { get; init; } = "";

    public static TaskError Of(string code, string message) => new() { Code = code, Message = message };
}

/// <summary>One attempt of a task, as reported in <see cref="TaskResult.Route"/>.</summary>
public sealed class RouteEntry
{
    public string AgentId { get; init; } = "";

    /// <summary>One of <see cref="AttemptOutcomes"/>.</summary>
    public string Outcome { get; init; } = "";

    /// <summary>Milliseconds from dispatch to the attempt's end.</summary>
    public double Ms { get; init; }

    /// <summary>Strategy that chose this agent.</summary>
    public string? Strategy { get; init; }

    /// <summary>Agents that were eligible when the choice was made.</summary>
    public int Candidates { get; init; }

    /// <summary>The chosen agent's pending count at the moment it was picked (before this task).</summary>
    public int Pending { get; init; }

    /// <summary>The chosen agent's latency estimate for the method at pick time, in milliseconds.</summary>
    public double LatencyEstimateMs { get; init; }

    /// <summary>The chosen agent's trust score at pick time.</summary>
    public double Trust { get; init; }

    /// <summary>The chosen agent's circuit state at pick time: <c>closed</c>, <c>half-open</c> (a probe) or <c>open</c> (only when every agent was open).</summary>
    public string? Circuit { get; init; }

    /// <summary>The chosen agent's success rate over the breaker's rolling window at pick time.</summary>
    public double? SuccessRate { get; init; }

    /// <summary>The chosen agent's slow-start factor at pick time (1 once ramped up).</summary>
    public double? SlowStart { get; init; }

    public TaskError? Error { get; init; }
}

/// <summary>The one final result the hub returns for a submitted task.</summary>
public sealed class TaskResult : IRawMessagePackCarrier
{
    private readonly JsonElement? _result;
    private ReadOnlyMemory<byte>? _resultMessagePack;
    private RawMessagePackView? _resultView;

    public string TaskId { get; init; } = "";

    /// <summary>One of <see cref="TaskStatuses"/>.</summary>
    public string Status { get; init; } = "";

    /// <summary>The result's JSON view; converted on first read when it arrived as MessagePack (<see cref="ResultMessagePack"/>).</summary>
    public JsonElement? Result
    {
        get => RawMessagePackView.Json(_result, _resultMessagePack, ref _resultView);
        init => _result = value;
    }

    /// <summary>The agent's result as one MessagePack value, passed through unchanged between MessagePack peers.</summary>
    [JsonIgnore]
    public ReadOnlyMemory<byte>? ResultMessagePack
    {
        get => _resultMessagePack;
        init => _resultMessagePack = value;
    }

    public TaskError? Error { get; init; }

    /// <summary>The agent that produced the final outcome, if any.</summary>
    public string? AgentId { get; init; }

    public int Attempts { get; init; }
    public string Strategy { get; init; } = "";

    /// <summary>Milliseconds from submission to the final result.</summary>
    public double LatencyMs { get; init; }

    public IReadOnlyList<RouteEntry> Route { get; init; } = [];

    ReadOnlyMemory<byte>? IRawMessagePackCarrier.RawMessagePack => _resultMessagePack;

    void IRawMessagePackCarrier.AttachRawMessagePack(ReadOnlyMemory<byte> raw) => _resultMessagePack = raw;
}

/// <summary>What an agent tells the hub about its own load (<c>ReportLoad</c>), periodically or on change.</summary>
public sealed class AgentLoadReport
{
    /// <summary>Tasks the agent holds but has not started (its own queue, e.g. waiting for a batch or a device).</summary>
    public int? QueueDepth { get; init; }

    /// <summary>Tasks the agent could start right now.</summary>
    public int? FreeSlots { get; init; }

    /// <summary>Accelerator readings, when the agent has any.</summary>
    public IReadOnlyList<GpuTelemetry>? Gpus { get; init; }
}

/// <summary>One GPU's state as read from the NVIDIA management library.</summary>
public sealed class GpuTelemetry
{
    public int Index { get; init; }
    public string Name { get; init; } = "";
    public long MemoryUsedBytes { get; init; }
    public long MemoryTotalBytes { get; init; }

    /// <summary>Percent of time a kernel ran over the driver's last sample period.</summary>
    public int UtilizationPercent { get; init; }

    public int? TemperatureC { get; init; }
}
