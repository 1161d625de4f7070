using System.Text.Json;
using Aicp.Protocol.MessagePack;

namespace Aicp.Protocol;

/// <summary>
/// A contract whose payload (<see cref="TaskRequest"/>, <see cref="TaskAssignment"/>) or result
/// (<see cref="TaskCompletion"/>, <see cref="TaskResult"/>) can be held as the raw MessagePack of one value, so the
/// MessagePack hub protocol passes it through without converting it to JSON and back.
/// </summary>
internal interface IRawMessagePackCarrier
{
    ReadOnlyMemory<byte>? RawMessagePack { get; }

    /// <summary>Called by the MessagePack protocol right after binding, with bytes it owns (a copy of the frame's).</summary>
    void AttachRawMessagePack(ReadOnlyMemory<byte> raw);
}

/// <summary>The lazily built JSON view of a raw MessagePack payload, and the switch the protocol uses while writing.</summary>
internal sealed class RawMessagePackView(JsonElement value)
{
    /// <summary>A JSON null, for raw-backed fields and for nil payloads bound directly.</summary>
    internal static readonly JsonElement NullElement = JsonSerializer.Deserialize<JsonElement>("null"u8);

    [ThreadStatic]
    private static int t_hidden;

    public JsonElement Value { get; } = value;

    /// <summary>
    /// Which field of a carrier type holds raw MessagePack (its C# property name), or null for other types.
    /// </summary>
    public static string? FieldOf(Type type) =>
        type == typeof(TaskRequest) || type == typeof(TaskAssignment) ? nameof(TaskRequest.Payload)
        : type == typeof(TaskCompletion) || type == typeof(TaskResult) ? nameof(TaskResult.Result)
        : null;

    /// <summary>
    /// While the MessagePack protocol serializes a carrier's other fields with System.Text.Json, its raw-backed
    /// value reads as JSON null (a placeholder the protocol replaces with the raw bytes) instead of being converted.
    /// Synchronous, on the calling thread only.
    /// </summary>
    public static HiddenScope Hide()
    {
        t_hidden++;
        return default;
    }

    public static JsonElement Json(JsonElement explicitValue, ReadOnlyMemory<byte>? raw, ref RawMessagePackView? cache)
    {
        if (raw is not { } bytes)
        {
            return explicitValue;
        }

        return t_hidden != 0 ? NullElement : View(bytes, ref cache);
    }

    public static JsonElement? Json(JsonElement? explicitValue, ReadOnlyMemory<byte>? raw, ref RawMessagePackView? cache)
    {
        if (raw is not { } bytes)
        {
            return explicitValue;
        }

        return t_hidden != 0 ? NullElement : View(bytes, ref cache);
    }

    private static JsonElement View(ReadOnlyMemory<byte> bytes, ref RawMessagePackView? cache)
    {
        var view = Volatile.Read(ref cache);
        if (view is null)
        {
            var json = MessagePackJsonTranscoder.ToJson(bytes.Span);
            view = new RawMessagePackView(JsonSerializer.Deserialize<JsonElement>(json));
            view = Interlocked.CompareExchange(ref cache, view, null) ?? view;
        }

        return view.Value;
    }

    internal readonly struct HiddenScope : IDisposable
    {
        public void Dispose() => t_hidden--;
    }
}
