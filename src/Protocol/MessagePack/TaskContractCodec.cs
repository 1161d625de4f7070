using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aicp.Protocol.MessagePack;

/// <summary>
/// Reads and writes the four task contracts (<see cref="TaskRequest"/>, <see cref="TaskAssignment"/>,
/// <see cref="TaskCompletion"/>, <see cref="TaskResult"/>, with their <see cref="RouteEntry"/> and
/// <see cref="TaskError"/> parts) straight from and to MessagePack, with the payload or result kept as raw bytes.
/// </summary>
/// <remarks>
/// Produces what System.Text.Json with the protocol's serializer options followed by the JSON-to-MessagePack
/// transcoder would: the same camelCase names in declaration order, nulls written or left out by the options'
/// ignore condition, integral doubles as integers. Used only when the options are ones whose JSON form it knows
/// (<see cref="Supports"/>); any other options keep the JSON route. Reading matches names as the options do
/// (case-insensitively by default), skips unknown names, and reports a value of the wrong type as
/// <see cref="InvalidDataException"/>, which the protocol turns into a binding failure, not a closed connection.
/// </remarks>
internal sealed class TaskContractCodec
{
    private readonly bool _caseInsensitive;
    private readonly bool _writeNulls;
    private readonly int _transcodeDepth;
    private readonly JsonWriterOptions _elementWriterOptions;

    private TaskContractCodec(JsonSerializerOptions options, int maxDepth)
    {
        _caseInsensitive = options.PropertyNameCaseInsensitive;
        _writeNulls = options.DefaultIgnoreCondition == JsonIgnoreCondition.Never;

        // A JSON payload or result sits one level inside its contract, and System.Text.Json counted the contract's
        // level too: the same limits, one lower, counted from the element.
        var jsonDepth = options.MaxDepth > 0 ? options.MaxDepth : MessagePackReader.DefaultMaxDepth;
        _transcodeDepth = Math.Max(jsonDepth, maxDepth) - 1;
        _elementWriterOptions = MessagePackJsonTranscoder.JsonWriterOptions with { MaxDepth = jsonDepth - 1 };
    }

    /// <summary>A codec for <paramref name="options"/>, or null when those options are not ones it can mirror.</summary>
    public static TaskContractCodec? For(JsonSerializerOptions options, int maxDepth) =>
        Supports(options) ? new TaskContractCodec(options, maxDepth) : null;

    /// <summary>
    /// True for options with camelCase names, no custom converters, resolver or reference handling, strict number
    /// handling, unmapped members skipped, duplicate names allowed, and nulls either always written or left out:
    /// the JSON form this codec reproduces.
    /// </summary>
    public static bool Supports(JsonSerializerOptions options) =>
        options.PropertyNamingPolicy == JsonNamingPolicy.CamelCase
        && options.Converters.Count == 0
        && options.TypeInfoResolver is null or System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver { Modifiers.Count: 0 }
        && options.NumberHandling == JsonNumberHandling.Strict
        && options.UnmappedMemberHandling == JsonUnmappedMemberHandling.Skip
        && !options.RespectNullableAnnotations
        && options.DefaultIgnoreCondition is JsonIgnoreCondition.Never or JsonIgnoreCondition.WhenWritingNull
#pragma warning disable SYSLIB0020 // obsolete, but System.Text.Json still honours it
        && !options.IgnoreNullValues
#pragma warning restore SYSLIB0020
        && options.ReferenceHandler is null
        && options.AllowDuplicateProperties
        && options.MaxDepth is 0 or >= 2;

    public static bool Handles(Type type) =>
        type == typeof(TaskRequest) || type == typeof(TaskAssignment) || type == typeof(TaskCompletion) || type == typeof(TaskResult);

    // ---------------------------------------------------------------- reading

    /// <summary>Reads a contract of <paramref name="type"/> (one <see cref="Handles"/> accepts) from a map.</summary>
    public object Read(ref MessagePackReader reader, Type type)
    {
        if (type == typeof(TaskRequest))
        {
            return ReadRequest(ref reader);
        }

        if (type == typeof(TaskCompletion))
        {
            return ReadCompletion(ref reader);
        }

        return type == typeof(TaskAssignment) ? ReadAssignment(ref reader) : ReadResult(ref reader);
    }

    private TaskRequest ReadRequest(ref MessagePackReader reader)
    {
        string? method = "", strategy = null;
        int? timeoutMs = null, maxAttempts = null;
        var payload = default(JsonElement);
        byte[]? raw = null;
        var count = MapHeader(ref reader, nameof(TaskRequest));
        for (var i = 0; i < count; i++)
        {
            var key = Key(ref reader);
            if (Is(key, "method"u8))
            {
                method = String(ref reader, "method");
            }
            else if (IsRawField(key, "payload"u8))
            {
                Raw(ref reader, ref payload, ref raw);
            }
            else if (Is(key, "strategy"u8))
            {
                strategy = String(ref reader, "strategy");
            }
            else if (Is(key, "timeoutMs"u8))
            {
                timeoutMs = NullableInt32(ref reader, "timeoutMs");
            }
            else if (Is(key, "maxAttempts"u8))
            {
                maxAttempts = NullableInt32(ref reader, "maxAttempts");
            }
            else
            {
                SkipValue(ref reader, depth: 1);
            }
        }

        return raw is null
            ? new TaskRequest { Method = method!, Payload = payload, Strategy = strategy, TimeoutMs = timeoutMs, MaxAttempts = maxAttempts }
            : new TaskRequest { Method = method!, PayloadMessagePack = raw, Strategy = strategy, TimeoutMs = timeoutMs, MaxAttempts = maxAttempts };
    }

    private TaskAssignment ReadAssignment(ref MessagePackReader reader)
    {
        string? taskId = "", method = "";
        int attempt = 0, timeoutMs = 0;
        var payload = default(JsonElement);
        byte[]? raw = null;
        var count = MapHeader(ref reader, nameof(TaskAssignment));
        for (var i = 0; i < count; i++)
        {
            var key = Key(ref reader);
            if (Is(key, "taskId"u8))
            {
                taskId = String(ref reader, "taskId");
            }
            else if (Is(key, "attempt"u8))
            {
                attempt = Int32(ref reader, "attempt");
            }
            else if (Is(key, "method"u8))
            {
                method = String(ref reader, "method");
            }
            else if (IsRawField(key, "payload"u8))
            {
                Raw(ref reader, ref payload, ref raw);
            }
            else if (Is(key, "timeoutMs"u8))
            {
                timeoutMs = Int32(ref reader, "timeoutMs");
            }
            else
            {
                SkipValue(ref reader, depth: 1);
            }
        }

        return raw is null
            ? new TaskAssignment { TaskId = taskId!, Attempt = attempt, Method = method!, Payload = payload, TimeoutMs = timeoutMs }
            : new TaskAssignment { TaskId = taskId!, Attempt = attempt, Method = method!, PayloadMessagePack = raw, TimeoutMs = timeoutMs };
    }

    private TaskCompletion ReadCompletion(ref MessagePackReader reader)
    {
        string? taskId = "";
        var attempt = 0;
        var ok = false;
        TaskError? error = null;
        var result = default(JsonElement);
        byte[]? raw = null;
        var count = MapHeader(ref reader, nameof(TaskCompletion));
        for (var i = 0; i < count; i++)
        {
            var key = Key(ref reader);
            if (Is(key, "taskId"u8))
            {
                taskId = String(ref reader, "taskId");
            }
            else if (Is(key, "attempt"u8))
            {
                attempt = Int32(ref reader, "attempt");
            }
            else if (Is(key, "ok"u8))
            {
                ok = Boolean(ref reader, "ok");
            }
            else if (IsRawField(key, "result"u8))
            {
                Raw(ref reader, ref result, ref raw);
            }
            else if (Is(key, "error"u8))
            {
                error = Error(ref reader, depth: 2);
            }
            else
            {
                SkipValue(ref reader, depth: 1);
            }
        }

        // A nil result binds to null, as System.Text.Json binds JSON null to a JsonElement? property.
        return raw is null
            ? new TaskCompletion { TaskId = taskId!, Attempt = attempt, Ok = ok, Error = error }
            : new TaskCompletion { TaskId = taskId!, Attempt = attempt, Ok = ok, ResultMessagePack = raw, Error = error };
    }

    private TaskResult ReadResult(ref MessagePackReader reader)
    {
        string? taskId = "", status = "", agentId = null, strategy = "";
        var attempts = 0;
        var latencyMs = 0.0;
        TaskError? error = null;
        IReadOnlyList<RouteEntry>? route = [];
        var result = default(JsonElement);
        byte[]? raw = null;
        var count = MapHeader(ref reader, nameof(TaskResult));
        for (var i = 0; i < count; i++)
        {
            var key = Key(ref reader);
            if (Is(key, "taskId"u8))
            {
                taskId = String(ref reader, "taskId");
            }
            else if (Is(key, "status"u8))
            {
                status = String(ref reader, "status");
            }
            else if (IsRawField(key, "result"u8))
            {
                Raw(ref reader, ref result, ref raw);
            }
            else if (Is(key, "error"u8))
            {
                error = Error(ref reader, depth: 2);
            }
            else if (Is(key, "agentId"u8))
            {
                agentId = String(ref reader, "agentId");
            }
            else if (Is(key, "attempts"u8))
            {
                attempts = Int32(ref reader, "attempts");
            }
            else if (Is(key, "strategy"u8))
            {
                strategy = String(ref reader, "strategy");
            }
            else if (Is(key, "latencyMs"u8))
            {
                latencyMs = Double(ref reader, "latencyMs");
            }
            else if (Is(key, "route"u8))
            {
                route = Route(ref reader);
            }
            else
            {
                SkipValue(ref reader, depth: 1);
            }
        }

        return raw is null
            ? new TaskResult { TaskId = taskId!, Status = status!, Error = error, AgentId = agentId, Attempts = attempts, Strategy = strategy!, LatencyMs = latencyMs, Route = route! }
            : new TaskResult { TaskId = taskId!, Status = status!, ResultMessagePack = raw, Error = error, AgentId = agentId, Attempts = attempts, Strategy = strategy!, LatencyMs = latencyMs, Route = route! };
    }

    /// <summary>The route as System.Text.Json binds it: a list, nil entries kept as null.</summary>
    private List<RouteEntry>? Route(ref MessagePackReader reader)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        Expect(ref reader, MessagePackType.Array, "route", "an array");
        reader.CheckDepth(2);
        var count = reader.ReadArrayHeader();
        var entries = new List<RouteEntry>(count);
        for (var i = 0; i < count; i++)
        {
            entries.Add(RouteEntry(ref reader)!);
        }

        return entries;
    }

    private RouteEntry? RouteEntry(ref MessagePackReader reader)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        string? agentId = "", outcome = "", strategy = null, circuit = null;
        int candidates = 0, pending = 0;
        double ms = 0, latencyEstimateMs = 0, trust = 0;
        double? successRate = null, slowStart = null;
        TaskError? error = null;
        Expect(ref reader, MessagePackType.Map, nameof(Protocol.RouteEntry), "an object");
        reader.CheckDepth(3);
        var count = reader.ReadMapHeader();
        for (var i = 0; i < count; i++)
        {
            var key = Key(ref reader);
            if (Is(key, "agentId"u8))
            {
                agentId = String(ref reader, "agentId");
            }
            else if (Is(key, "outcome"u8))
            {
                outcome = String(ref reader, "outcome");
            }
            else if (Is(key, "ms"u8))
            {
                ms = Double(ref reader, "ms");
            }
            else if (Is(key, "strategy"u8))
            {
                strategy = String(ref reader, "strategy");
            }
            else if (Is(key, "candidates"u8))
            {
                candidates = Int32(ref reader, "candidates");
            }
            else if (Is(key, "pending"u8))
            {
                pending = Int32(ref reader, "pending");
            }
            else if (Is(key, "latencyEstimateMs"u8))
            {
                latencyEstimateMs = Double(ref reader, "latencyEstimateMs");
            }
            else if (Is(key, "trust"u8))
            {
                trust = Double(ref reader, "trust");
            }
            else if (Is(key, "circuit"u8))
            {
                circuit = String(ref reader, "circuit");
            }
            else if (Is(key, "successRate"u8))
            {
                successRate = reader.TryReadNil() ? null : Double(ref reader, "successRate");
            }
            else if (Is(key, "slowStart"u8))
            {
                slowStart = reader.TryReadNil() ? null : Double(ref reader, "slowStart");
            }
            else if (Is(key, "error"u8))
            {
                error = Error(ref reader, depth: 4);
            }
            else
            {
                SkipValue(ref reader, depth: 3);
            }
        }

        return new RouteEntry
        {
            AgentId = agentId!, Outcome = outcome!, Ms = ms, Strategy = strategy, Candidates = candidates, Pending = pending,
            LatencyEstimateMs = latencyEstimateMs, Trust = trust, Circuit = circuit, SuccessRate = successRate, SlowStart = slowStart, Error = error,
        };
    }

    private TaskError? Error(ref MessagePackReader reader, int depth)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        Expect(ref reader, MessagePackType.Map, "error", "an object");
        reader.CheckDepth(depth);
        string? code = "", message = "";
        var count = reader.ReadMapHeader();
        for (var i = 0; i < count; i++)
        {
            var key = Key(ref reader);
            if (Is(key, "code"u8))
            {
                code = String(ref reader, "code");
            }
            else if (Is(key, "message"u8))
            {
                message = String(ref reader, "message");
            }
            else
            {
                SkipValue(ref reader, depth);
            }
        }

        return new TaskError { Code = code!, Message = message! };
    }

    /// <summary>
    /// The payload/result value: nil binds like JSON null (a null element in <paramref name="nullValue"/>; raw bytes
    /// already read for a duplicate key stay, as they did when the raw field was captured beside the JSON);
    /// anything else is checked to have a JSON form (so its view can always be built) and copied out of the frame
    /// buffer, which is reused.
    /// </summary>
    private static void Raw(ref MessagePackReader reader, ref JsonElement nullValue, ref byte[]? raw)
    {
        if (reader.TryReadNil())
        {
            nullValue = RawMessagePackView.NullElement;
            return;
        }

        var check = reader;
        MessagePackJsonTranscoder.ValidateValue(ref check, 1);
        raw = reader.ReadRaw().ToArray();
    }

    private static int MapHeader(ref MessagePackReader reader, string type)
    {
        Expect(ref reader, MessagePackType.Map, type, "an object");
        reader.CheckDepth(1);
        return reader.ReadMapHeader();
    }

    /// <summary>
    /// A property name. Keys are held to what their JSON form needs, as when the map went through JSON: a string must
    /// be valid UTF-8 (else a format error), an integer names no field (empty), any other type is a binding failure.
    /// </summary>
    private static ReadOnlySpan<byte> Key(ref MessagePackReader reader)
    {
        switch (reader.NextType)
        {
            case MessagePackType.String:
                var start = reader.Position;
                var key = reader.ReadStringSpan();
                if (!Utf8.IsValid(key))
                {
                    throw new MessagePackFormatException($"The map key at offset {start} is not valid UTF-8.");
                }

                return key;
            case MessagePackType.Integer:
                reader.Skip();
                return default;
            default:
                throw new NotSupportedException($"A map key of type {reader.NextType} (offset {reader.Position}) has no JSON form; keys must be strings or integers.");
        }
    }

    /// <summary>An unknown field's value, checked as its JSON conversion would check it, then ignored.</summary>
    private static void SkipValue(ref MessagePackReader reader, int depth) => MessagePackJsonTranscoder.ValidateValue(ref reader, depth);

    private bool Is(ReadOnlySpan<byte> key, ReadOnlySpan<byte> name) =>
        _caseInsensitive ? Ascii.EqualsIgnoreCase(key, name) : key.SequenceEqual(name);

    /// <summary>The raw payload/result field is found ASCII case-insensitively whatever the options say.</summary>
    private static bool IsRawField(ReadOnlySpan<byte> key, ReadOnlySpan<byte> name) => Ascii.EqualsIgnoreCase(key, name);

    private static string? String(ref MessagePackReader reader, string field)
    {
        if (reader.NextType is not (MessagePackType.String or MessagePackType.Nil))
        {
            throw WrongType(ref reader, field, "a string");
        }

        return reader.ReadString();
    }

    private static bool Boolean(ref MessagePackReader reader, string field)
    {
        Expect(ref reader, MessagePackType.Boolean, field, "true or false");
        return reader.ReadBoolean();
    }

    private static int? NullableInt32(ref MessagePackReader reader, string field) =>
        reader.TryReadNil() ? null : Int32(ref reader, field);

    /// <summary>An int: any integer format in range, or a float with an integral value in range.</summary>
    private static int Int32(ref MessagePackReader reader, string field)
    {
        switch (reader.NextType)
        {
            case MessagePackType.Integer:
                if (reader.NextCode == MessagePackCode.UInt64)
                {
                    if (reader.ReadUInt64() is var unsigned && unsigned <= int.MaxValue)
                    {
                        return (int)unsigned;
                    }
                }
                else if (reader.ReadInt64() is >= int.MinValue and <= int.MaxValue and var value)
                {
                    return (int)value;
                }

                break;
            case MessagePackType.Float:
                var number = reader.ReadDouble();
                if (number == Math.Truncate(number) && number is >= int.MinValue and <= int.MaxValue)
                {
                    return (int)number;
                }

                break;
        }

        throw new InvalidDataException($"'{field}' must be a 32-bit integer.");
    }

    /// <summary>
    /// A double: an integer, a float64, or a float32 taken at its shortest decimal form (0.1f reads as 0.1, as its
    /// JSON text would); NaN and infinities have no JSON number form and fail.
    /// </summary>
    private static double Double(ref MessagePackReader reader, string field)
    {
        double number;
        switch (reader.NextType)
        {
            case MessagePackType.Float when reader.NextCode == MessagePackCode.Float32:
                var single = reader.ReadSingle();
                number = float.IsFinite(single) ? double.Parse(single.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : single;
                break;
            case MessagePackType.Float:
                number = reader.ReadDouble();
                break;
            case MessagePackType.Integer:
                return reader.NextCode == MessagePackCode.UInt64 ? reader.ReadUInt64() : reader.ReadInt64();
            default:
                throw WrongType(ref reader, field, "a number");
        }

        return double.IsFinite(number) ? number : throw new InvalidDataException($"'{field}' must be a finite number.");
    }

    private static void Expect(ref MessagePackReader reader, MessagePackType type, string field, string expected)
    {
        if (reader.NextType != type)
        {
            throw WrongType(ref reader, field, expected);
        }
    }

    private static InvalidDataException WrongType(ref MessagePackReader reader, string field, string expected) =>
        new($"'{field}' must be {expected}, not {reader.NextType} (offset {reader.Position}).");

    // ---------------------------------------------------------------- writing

    /// <summary>Writes a contract (one <see cref="Handles"/> accepts) as a map.</summary>
    public void Write(ref MessagePackWriter writer, object value)
    {
        switch (value)
        {
            case TaskRequest request:
                WriteRequest(ref writer, request);
                break;
            case TaskAssignment assignment:
                WriteAssignment(ref writer, assignment);
                break;
            case TaskCompletion completion:
                WriteCompletion(ref writer, completion);
                break;
            case TaskResult result:
                WriteResult(ref writer, result);
                break;
            default:
                throw new ArgumentException($"{value.GetType().Name} is not a task contract.", nameof(value));
        }
    }

    private void WriteRequest(ref MessagePackWriter writer, TaskRequest value)
    {
        writer.WriteMapHeader(1 + Count(value.Method) + Count(value.Strategy) + Count(value.TimeoutMs.HasValue) + Count(value.MaxAttempts.HasValue));
        WriteString(ref writer, "method"u8, value.Method);
        writer.WriteString("payload"u8);
        WriteElement(ref writer, value.PayloadMessagePack, value.Payload);
        WriteString(ref writer, "strategy"u8, value.Strategy);
        WriteInt32(ref writer, "timeoutMs"u8, value.TimeoutMs);
        WriteInt32(ref writer, "maxAttempts"u8, value.MaxAttempts);
    }

    private void WriteAssignment(ref MessagePackWriter writer, TaskAssignment value)
    {
        writer.WriteMapHeader(3 + Count(value.TaskId) + Count(value.Method));
        WriteString(ref writer, "taskId"u8, value.TaskId);
        writer.WriteString("attempt"u8);
        writer.Write(value.Attempt);
        WriteString(ref writer, "method"u8, value.Method);
        writer.WriteString("payload"u8);
        WriteElement(ref writer, value.PayloadMessagePack, value.Payload);
        writer.WriteString("timeoutMs"u8);
        writer.Write(value.TimeoutMs);
    }

    private void WriteCompletion(ref MessagePackWriter writer, TaskCompletion value)
    {
        var hasResult = value.ResultMessagePack is not null || value.Result is not null;
        writer.WriteMapHeader(2 + Count(value.TaskId) + Count(hasResult) + Count(value.Error));
        WriteString(ref writer, "taskId"u8, value.TaskId);
        writer.WriteString("attempt"u8);
        writer.Write(value.Attempt);
        writer.WriteString("ok"u8);
        writer.Write(value.Ok);
        WriteResultValue(ref writer, hasResult, value.ResultMessagePack, value);
        WriteError(ref writer, value.Error);
    }

    private void WriteResult(ref MessagePackWriter writer, TaskResult value)
    {
        var hasResult = value.ResultMessagePack is not null || value.Result is not null;
        writer.WriteMapHeader(2 + Count(value.TaskId) + Count(value.Status) + Count(hasResult) + Count(value.Error) + Count(value.AgentId) + Count(value.Strategy) + Count(value.Route));
        WriteString(ref writer, "taskId"u8, value.TaskId);
        WriteString(ref writer, "status"u8, value.Status);
        WriteResultValue(ref writer, hasResult, value.ResultMessagePack, value);
        WriteError(ref writer, value.Error);
        WriteString(ref writer, "agentId"u8, value.AgentId);
        writer.WriteString("attempts"u8);
        writer.Write(value.Attempts);
        WriteString(ref writer, "strategy"u8, value.Strategy);
        writer.WriteString("latencyMs"u8);
        WriteNumber(ref writer, value.LatencyMs);
        if (value.Route is null)
        {
            if (_writeNulls)
            {
                writer.WriteString("route"u8);
                writer.WriteNil();
            }

            return;
        }

        writer.WriteString("route"u8);
        writer.WriteArrayHeader(value.Route.Count);
        foreach (var entry in value.Route)
        {
            WriteRouteEntry(ref writer, entry);
        }
    }

    private void WriteRouteEntry(ref MessagePackWriter writer, RouteEntry? entry)
    {
        if (entry is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteMapHeader(5 + Count(entry.AgentId) + Count(entry.Outcome) + Count(entry.Strategy) + Count(entry.Circuit) + Count(entry.SuccessRate.HasValue)
            + Count(entry.SlowStart.HasValue) + Count(entry.Error));
        WriteString(ref writer, "agentId"u8, entry.AgentId);
        WriteString(ref writer, "outcome"u8, entry.Outcome);
        writer.WriteString("ms"u8);
        WriteNumber(ref writer, entry.Ms);
        WriteString(ref writer, "strategy"u8, entry.Strategy);
        writer.WriteString("candidates"u8);
        writer.Write(entry.Candidates);
        writer.WriteString("pending"u8);
        writer.Write(entry.Pending);
        writer.WriteString("latencyEstimateMs"u8);
        WriteNumber(ref writer, entry.LatencyEstimateMs);
        writer.WriteString("trust"u8);
        WriteNumber(ref writer, entry.Trust);
        WriteString(ref writer, "circuit"u8, entry.Circuit);
        WriteDouble(ref writer, "successRate"u8, entry.SuccessRate);
        WriteDouble(ref writer, "slowStart"u8, entry.SlowStart);
        WriteError(ref writer, entry.Error);
    }

    private void WriteResultValue(ref MessagePackWriter writer, bool hasResult, ReadOnlyMemory<byte>? raw, object owner)
    {
        if (!hasResult)
        {
            if (_writeNulls)
            {
                writer.WriteString("result"u8);
                writer.WriteNil();
            }

            return;
        }

        writer.WriteString("result"u8);
        if (raw is { } bytes)
        {
            writer.WriteRaw(bytes.Span);
        }
        else
        {
            var element = owner is TaskResult result ? result.Result!.Value : ((TaskCompletion)owner).Result!.Value;
            WriteJson(ref writer, element);
        }
    }

    private void WriteElement(ref MessagePackWriter writer, ReadOnlyMemory<byte>? raw, JsonElement element)
    {
        if (raw is { } bytes)
        {
            writer.WriteRaw(bytes.Span);
        }
        else
        {
            WriteJson(ref writer, element);
        }
    }

    /// <summary>A JSON value (from a JSON peer) converted to MessagePack; an unset element is written as nil.</summary>
    private void WriteJson(ref MessagePackWriter writer, JsonElement element)
    {
        if (element.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            writer.WriteNil();
            return;
        }

        using var json = new PooledBufferWriter();
        using (var jsonWriter = new Utf8JsonWriter(json, _elementWriterOptions))
        {
            element.WriteTo(jsonWriter);
        }

        MessagePackJsonTranscoder.WriteMessagePack(json.WrittenSpan, ref writer, _transcodeDepth);
    }

    private void WriteError(ref MessagePackWriter writer, TaskError? error)
    {
        if (error is null)
        {
            if (_writeNulls)
            {
                writer.WriteString("error"u8);
                writer.WriteNil();
            }

            return;
        }

        writer.WriteString("error"u8);
        writer.WriteMapHeader(Count(error.Code) + Count(error.Message));
        WriteString(ref writer, "code"u8, error.Code);
        WriteString(ref writer, "message"u8, error.Message);
    }

    private void WriteString(ref MessagePackWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null || _writeNulls)
        {
            writer.WriteString(name);
            writer.Write(value);
        }
    }

    private void WriteInt32(ref MessagePackWriter writer, ReadOnlySpan<byte> name, int? value)
    {
        if (value is { } number)
        {
            writer.WriteString(name);
            writer.Write(number);
        }
        else if (_writeNulls)
        {
            writer.WriteString(name);
            writer.WriteNil();
        }
    }

    private void WriteDouble(ref MessagePackWriter writer, ReadOnlySpan<byte> name, double? value)
    {
        if (value is { } number)
        {
            writer.WriteString(name);
            WriteNumber(ref writer, number);
        }
        else if (_writeNulls)
        {
            writer.WriteString(name);
            writer.WriteNil();
        }
    }

    /// <summary>
    /// A double as its JSON text would be transcoded: an integral value that System.Text.Json writes without an
    /// exponent (below 1e17 in magnitude) becomes an integer, anything else a float64.
    /// </summary>
    private static void WriteNumber(ref MessagePackWriter writer, double value)
    {
        if (!double.IsFinite(value))
        {
            // As System.Text.Json: NaN and infinities have no JSON number form.
            throw new ArgumentException($"{value} is not a finite number; it cannot be written as a JSON number.", nameof(value));
        }

        if (value == Math.Truncate(value) && Math.Abs(value) < 1e17)
        {
            // Below 2^53 every integer is exact; above, the JSON text holds the shortest digits that round-trip.
            writer.Write(Math.Abs(value) < 9007199254740992d ? (long)value : long.Parse(value.ToString("R", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            writer.Write(value);
        }
    }

    private int Count(object? value) => value is not null || _writeNulls ? 1 : 0;

    private int Count(bool present) => present || _writeNulls ? 1 : 0;
}
