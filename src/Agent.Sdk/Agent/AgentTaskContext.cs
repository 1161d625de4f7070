using System.Text.Json;

namespace Aicp.Agent.Sdk.Agent;

/// <summary>One assignment as a handler sees it.</summary>
public sealed class AgentTaskContext
{
    internal AgentTaskContext(string taskId, int attempt, string method, JsonElement payload, TimeSpan timeout)
    {
        TaskId = taskId;
        Attempt = attempt;
        Method = method;
        Payload = payload;
        Timeout = timeout;
    }

    public string TaskId { get; }

    /// <summary>1 for the first dispatch; higher after failovers.</summary>
    public int Attempt { get; }

    public string Method { get; }

    /// <summary>The submitter's payload as sent.</summary>
    public JsonElement Payload { get; }

    /// <summary>How long the hub waits for this attempt.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Binds the payload to <typeparamref name="T"/> with the wire's JSON conventions.</summary>
    public T? PayloadAs<T>() => Payload.Deserialize<T>(AgentJson.Options);
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
