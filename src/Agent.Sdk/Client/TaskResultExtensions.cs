using Aicp.Agent.Sdk.Connection;
using Aicp.Agent.Sdk.Serialization;
using Aicp.Protocol;

namespace Aicp.Agent.Sdk.Client;

/// <summary>Reading a <see cref="TaskResult"/>.</summary>
public static class TaskResultExtensions
{
    private static readonly Lazy<MessagePackContract> DefaultContract = new(() => PayloadSerializer.ContractFor(AicpConnectionOptions.CreateSerializerOptions()));

    /// <summary>The status as an enum (<see cref="AicpTaskStatus.Unknown"/> for a name this SDK does not know).</summary>
    public static AicpTaskStatus GetStatus(this TaskResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Status switch
        {
            TaskStatuses.Completed => AicpTaskStatus.Completed,
            TaskStatuses.Failed => AicpTaskStatus.Failed,
            TaskStatuses.Timeout => AicpTaskStatus.Timeout,
            TaskStatuses.NoAgents => AicpTaskStatus.NoAgents,
            TaskStatuses.Rejected => AicpTaskStatus.Rejected,
            TaskStatuses.Overloaded => AicpTaskStatus.Overloaded,
            TaskStatuses.Cancelled => AicpTaskStatus.Cancelled,
            TaskStatuses.RateLimited => AicpTaskStatus.RateLimited,
            _ => AicpTaskStatus.Unknown,
        };
    }

    /// <summary>
    /// The result bound to <typeparamref name="T"/>, straight from the form it arrived in, with the wire's default
    /// conventions (<see cref="AicpConnectionOptions.CreateSerializerOptions"/>); default when the task produced none.
    /// A client with its own <see cref="AicpConnectionOptions.SerializerOptions"/> reads with <see cref="AicpTaskClient.GetResult{T}"/>.
    /// </summary>
    /// <exception cref="System.Text.Json.JsonException">The result does not bind to <typeparamref name="T"/>.</exception>
    public static T? GetResult<T>(this TaskResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return PayloadSerializer.Read<T>(result.Result, DefaultContract.Value);
    }

    /// <summary>
    /// The bytes of the result's top-level property <paramref name="name"/> (or of the result itself when null):
    /// a MessagePack <c>bin</c> as a slice of the received bytes, or a base64 string, decoded.
    /// </summary>
    public static bool TryGetResultBinary(this TaskResult result, string? name, out ReadOnlyMemory<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(result);
        bytes = default;
        return result.Result?.TryGetBinary(name, out bytes) == true;
    }
}
