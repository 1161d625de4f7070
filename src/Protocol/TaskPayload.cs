using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aicp.Protocol.Serialization;
using MessagePack;

namespace Aicp.Protocol;

/// <summary>
/// A task's payload (<see cref="TaskRequest"/>, <see cref="TaskAssignment"/>) or result (<see cref="TaskCompletion"/>,
/// <see cref="TaskResult"/>): one value, kept in the form its sender encoded it. A value that arrived over the
/// MessagePack protocol is held as its MessagePack bytes and written unchanged to MessagePack peers, so <c>bin</c>
/// stays <c>bin</c>; a value that arrived as JSON is held as a <see cref="JsonElement"/>. Either form is converted to
/// the other only when a peer of the other protocol needs it (<c>bin</c> becomes a base64 string in JSON).
/// </summary>
/// <remarks>
/// Every value this type holds has a JSON form: MessagePack values are checked when they are read (at most
/// <see cref="MaxDepth"/> nested arrays and maps, valid UTF-8, string or integer map keys, no extension type but the
/// timestamp), so forwarding one to a JSON peer cannot fail. Instances are immutable and safe to share.
/// </remarks>
[JsonConverter(typeof(TaskPayloadJsonConverter))]
[MessagePackFormatter(typeof(TaskPayloadFormatter))]
public sealed class TaskPayload
{
    /// <summary>
    /// Most arrays and maps a value may nest. A value this deep still fits within the 64 levels a JSON hub protocol
    /// peer reads in a whole message (the envelope of an assignment takes three). The value is 60.
    /// </summary>
    public const int MaxDepth = 60;

    private readonly ReadOnlyMemory<byte> _messagePack;
    private readonly JsonElement _json;
    private object? _converted; // the other form, built on first use: a JsonView or a byte[]

    private TaskPayload(ReadOnlyMemory<byte> messagePack, JsonElement json, bool isMessagePack)
    {
        _messagePack = messagePack;
        _json = json;
        IsMessagePack = isMessagePack;
    }

    /// <summary>True when the value arrived (or was built) as MessagePack; false when it is JSON.</summary>
    public bool IsMessagePack { get; }

    /// <summary>Size of the value in the form it arrived in: MessagePack bytes, or UTF-8 JSON bytes.</summary>
    public int Length => IsMessagePack ? _messagePack.Length : JsonMarshal.GetRawUtf8Value(_json).Length;

    /// <summary>The value as JSON; for a MessagePack value, converted on first read (<c>bin</c> as base64 strings, timestamps as ISO 8601 strings).</summary>
    public JsonElement Json
    {
        get
        {
            if (!IsMessagePack)
            {
                return _json;
            }

            if (Volatile.Read(ref _converted) is JsonView view)
            {
                return view.Value;
            }

            var json = new ArrayBufferWriter<byte>(Math.Max(256, _messagePack.Length * 2));
            using (var writer = new Utf8JsonWriter(json, ViewWriterOptions))
            {
                var reader = new MessagePackReader(_messagePack);
                MessagePackJson.Walk(ref reader, writer, MaxDepth);
            }

            var built = new JsonView(JsonSerializer.Deserialize<JsonElement>(json.WrittenSpan, JsonDepth));
            return ((JsonView)(Interlocked.CompareExchange(ref _converted, built, null) ?? built)).Value;
        }
    }

    /// <summary>The value as one MessagePack value: the bytes as they arrived, or, for a JSON value, converted on first read.</summary>
    public ReadOnlyMemory<byte> MessagePack
    {
        get
        {
            if (IsMessagePack)
            {
                return _messagePack;
            }

            if (Volatile.Read(ref _converted) is byte[] bytes)
            {
                return bytes;
            }

            var buffer = new ArrayBufferWriter<byte>();
            var writer = new MessagePackWriter(buffer);
            MessagePackJson.WriteJson(ref writer, _json);
            writer.Flush();
            var built = buffer.WrittenSpan.ToArray();
            return (byte[])(Interlocked.CompareExchange(ref _converted, built, null) ?? built);
        }
    }

    /// <summary>A JSON value (copied, so the caller's document may be disposed).</summary>
    public static TaskPayload FromJson(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Undefined)
        {
            throw new ArgumentException("An undefined JsonElement is not a value.", nameof(value));
        }

        return new TaskPayload(default, value.Clone(), isMessagePack: false);
    }

    /// <summary>A JSON value that owns its document (e.g. from <see cref="JsonElement.ParseValue"/>).</summary>
    internal static TaskPayload FromOwnedJson(JsonElement value) => new(default, value, isMessagePack: false);

    /// <summary>MessagePack bytes already checked by <see cref="MessagePackJson.Walk"/> and owned by the payload.</summary>
    internal static TaskPayload FromCheckedMessagePack(ReadOnlyMemory<byte> value) => new(value, default, isMessagePack: true);

    /// <summary>
    /// One encoded MessagePack value, which must satisfy the same rules as one read off the wire (see the remarks on
    /// <see cref="TaskPayload"/>). The bytes are not copied: the caller must not change them afterwards.
    /// </summary>
    /// <exception cref="MessagePackSerializationException">The bytes are not exactly one acceptable value.</exception>
    public static TaskPayload FromMessagePack(ReadOnlyMemory<byte> value)
    {
        var reader = new MessagePackReader(value);
        try
        {
            MessagePackJson.Walk(ref reader, json: null, MaxDepth);
        }
        catch (Exception ex) when (ex is EndOfStreamException or MessagePackSerializationException)
        {
            throw new MessagePackSerializationException($"Not a valid task payload: {ex.Message}", ex);
        }

        if (!reader.End)
        {
            throw new MessagePackSerializationException($"A task payload is one MessagePack value; {value.Length - reader.Consumed} bytes follow it.");
        }

        return new TaskPayload(value, default, isMessagePack: true);
    }

    /// <summary>Binds the JSON form of the value to <typeparamref name="T"/>.</summary>
    public T? Deserialize<T>(JsonSerializerOptions? options = null) => Json.Deserialize<T>(options);

    /// <summary>
    /// The bytes of top-level property <paramref name="name"/> (ASCII case-insensitive), or of the value itself when
    /// <paramref name="name"/> is null: a MessagePack <c>bin</c> as a slice of the value's bytes (no copy), or a base64
    /// string decoded (bytes in JSON, and a JSON submitter's bytes on a MessagePack connection). False when there is
    /// no such property or it holds neither.
    /// </summary>
    public bool TryGetBinary(string? name, out ReadOnlyMemory<byte> bytes)
    {
        bytes = default;
        if (!IsMessagePack)
        {
            if ((name is null ? _json : Property(_json, name)) is { ValueKind: JsonValueKind.String } text && text.TryGetBytesFromBase64(out var decoded))
            {
                bytes = decoded;
                return true;
            }

            return false;
        }

        var reader = new MessagePackReader(_messagePack);
        if (name is not null && !TryFindProperty(ref reader, name))
        {
            return false;
        }

        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Binary:
                // The value's bytes are contiguous, so the bin's contents end where the reader stands.
                var length = (int)reader.ReadBytes()!.Value.Length;
                bytes = _messagePack.Slice((int)reader.Consumed - length, length);
                return true;
            case MessagePackType.String:
                // Base64 text: what a JSON submitter's bytes become on their way to a MessagePack peer.
                var text = reader.ReadString();
                var decoded = new byte[(text!.Length * 3) / 4];
                if (!Convert.TryFromBase64String(text, decoded, out var written))
                {
                    return false;
                }

                bytes = decoded.AsMemory(0, written);
                return true;
            default:
                return false;
        }
    }

    /// <summary>The integer value of top-level property <paramref name="name"/> (ASCII case-insensitive), without converting the rest.</summary>
    public bool TryGetInt64(string name, out long value)
    {
        value = 0;
        if (!IsMessagePack)
        {
            return Property(_json, name) is { ValueKind: JsonValueKind.Number } number && number.TryGetInt64(out value);
        }

        var reader = new MessagePackReader(_messagePack);
        if (!TryFindProperty(ref reader, name) || reader.NextMessagePackType != MessagePackType.Integer || reader.NextCode == MessagePackCode.UInt64)
        {
            return false;
        }

        value = reader.ReadInt64();
        return true;
    }

    /// <summary>The value's JSON text.</summary>
    public override string ToString() => Json.GetRawText();

    private static JsonElement? Property(JsonElement value, string name)
    {
        if (value.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in value.EnumerateObject())
            {
                if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
                {
                    return property.Value;
                }
            }
        }

        return null;
    }

    /// <summary>Moves a reader at a map to the value of its key <paramref name="name"/>; false for other values.</summary>
    private static bool TryFindProperty(ref MessagePackReader reader, string name)
    {
        if (reader.NextMessagePackType != MessagePackType.Map)
        {
            return false;
        }

        var key = Encoding.UTF8.GetBytes(name);
        var count = reader.ReadMapHeader();
        for (var i = 0; i < count; i++)
        {
            var matches = false;
            if (reader.NextMessagePackType == MessagePackType.String)
            {
                matches = reader.ReadStringSequence() is { IsSingleSegment: true } candidate && Ascii.EqualsIgnoreCase(candidate.FirstSpan, key);
            }
            else
            {
                reader.Skip(); // a key that is not a string
            }

            if (matches)
            {
                return true;
            }

            reader.Skip(); // the value of a key that did not match
        }

        return false;
    }

    private static readonly JsonSerializerOptions JsonDepth = new() { MaxDepth = MaxDepth + 4 };

    // The view is parsed straight back into a JsonElement, never embedded in HTML: only what JSON requires is escaped.
    private static readonly JsonWriterOptions ViewWriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private sealed class JsonView(JsonElement value)
    {
        public JsonElement Value { get; } = value;
    }
}
