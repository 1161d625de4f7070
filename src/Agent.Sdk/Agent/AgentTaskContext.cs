using System.Text.Json;
using Aicp.Protocol;
using Aicp.Protocol.MessagePack;

namespace Aicp.Agent.Sdk.Agent;

/// <summary>One assignment as a handler sees it.</summary>
public sealed class AgentTaskContext
{
    private readonly TaskAssignment _assignment;
    private readonly bool _messagePackWire;

    internal AgentTaskContext(TaskAssignment assignment, bool messagePackWire)
        : this(assignment, messagePackWire, TimeSpan.FromMilliseconds(assignment.TimeoutMs))
    {
    }

    internal AgentTaskContext(string taskId, int attempt, string method, JsonElement payload, TimeSpan timeout)
        : this(new TaskAssignment { TaskId = taskId, Attempt = attempt, Method = method, Payload = payload }, messagePackWire: false, timeout)
    {
    }

    private AgentTaskContext(TaskAssignment assignment, bool messagePackWire, TimeSpan timeout)
    {
        _assignment = assignment;
        _messagePackWire = messagePackWire;
        TaskId = assignment.TaskId;
        Attempt = assignment.Attempt;
        Method = assignment.Method;
        Timeout = timeout;
    }

    public string TaskId { get; }

    /// <summary>1 for the first dispatch; higher after failovers.</summary>
    public int Attempt { get; }

    public string Method { get; }

    /// <summary>
    /// The submitter's payload as JSON. Over MessagePack this view is converted on first read, with <c>bin</c>
    /// values as base64 strings; use <see cref="TryGetBinary(string, out ReadOnlyMemory{byte})"/> for bytes.
    /// </summary>
    public JsonElement Payload => _assignment.Payload;

    /// <summary>
    /// The payload as the raw MessagePack the submitter sent (this agent and the submitter both on the MessagePack
    /// protocol, or a JSON payload converted by the hub); null on a JSON connection.
    /// </summary>
    public ReadOnlyMemory<byte>? PayloadMessagePack => _assignment.PayloadMessagePack;

    /// <summary>The result set with <see cref="SetResult"/>, as MessagePack.</summary>
    internal ReadOnlyMemory<byte>? ResultMessagePack { get; private set; }

    /// <summary>The result set with <see cref="SetResult"/> on a JSON connection.</summary>
    internal JsonElement? ResultJson { get; private set; }

    /// <summary>How long the hub waits for this attempt.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Binds the payload to <typeparamref name="T"/> with the wire's JSON conventions.</summary>
    public T? PayloadAs<T>() => Payload.Deserialize<T>(AgentJson.Options);

    /// <summary>
    /// The bytes of the payload's top-level property <paramref name="name"/> (case-insensitive). Over MessagePack a
    /// <c>bin</c> value is returned as a slice of the received bytes, with no base64 and no copy; otherwise a base64
    /// string (what JSON carries, and what a JSON submitter sends) is decoded. False when the property is missing or
    /// is neither.
    /// </summary>
    public bool TryGetBinary(string name, out ReadOnlyMemory<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (PayloadMessagePack is { } raw && MessagePackPayload.TryGetBinary(raw, name, out bytes))
        {
            return true;
        }

        bytes = default;
        var payload = Payload;
        if (payload.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        foreach (var property in payload.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return TryDecodeBase64(property.Value, out bytes);
            }
        }

        return false;
    }

    /// <summary>The payload itself as bytes: a MessagePack <c>bin</c> (no copy), or a base64 JSON string (decoded).</summary>
    public bool TryGetBinary(out ReadOnlyMemory<byte> bytes)
    {
        if (PayloadMessagePack is { } raw && MessagePackPayload.TryGetBinary(raw, null, out bytes))
        {
            return true;
        }

        return TryDecodeBase64(Payload, out bytes);
    }

    /// <summary>
    /// Sets the task's result from an object; the handler's returned <see cref="JsonElement"/> is then ignored. On a
    /// MessagePack connection byte buffers at the top level of <paramref name="value"/> (or <paramref name="value"/>
    /// itself) are sent as <c>bin</c> (see <see cref="MessagePackPayload.Serialize"/>); on JSON they are base64.
    /// </summary>
    public void SetResult(object? value)
    {
        if (_messagePackWire)
        {
            ResultMessagePack = MessagePackPayload.Serialize(value, AgentJson.Options);
            ResultJson = null;
        }
        else
        {
            ResultJson = value as JsonElement? ?? JsonSerializer.SerializeToElement(value, AgentJson.Options);
            ResultMessagePack = null;
        }
    }

    /// <summary>
    /// Sets the task's result to one MessagePack value given as its encoded bytes (e.g. <see cref="PayloadMessagePack"/>
    /// to echo the payload without converting it). A MessagePack connection sends the bytes unchanged; a JSON
    /// connection sends their JSON form. The handler's returned <see cref="JsonElement"/> is then ignored.
    /// </summary>
    public void SetResultMessagePack(ReadOnlyMemory<byte> messagePack)
    {
        if (messagePack.IsEmpty)
        {
            throw new ArgumentException("A MessagePack value needs at least one byte.", nameof(messagePack));
        }

        ResultMessagePack = messagePack;
        ResultJson = null;
    }

    private static bool TryDecodeBase64(JsonElement value, out ReadOnlyMemory<byte> bytes)
    {
        if (value.ValueKind == JsonValueKind.String && value.TryGetBytesFromBase64(out var decoded))
        {
            bytes = decoded;
            return true;
        }

        bytes = default;
        return false;
    }
}

/// <summary>Thrown by a handler to report a task error with a machine-readable code.</summary>
public sealed class AgentTaskException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>The JSON conventions of the wire: camelCase, case-insensitive, nulls omitted.</summary>
public static class AgentJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
}
