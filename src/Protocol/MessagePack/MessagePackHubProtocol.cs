using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace Aicp.Protocol.MessagePack;

/// <summary>
/// SignalR's MessagePack hub protocol ("messagepack", version 2, binary transfer format), with payload values bound
/// through System.Text.Json. See docs/PROTOCOL-MESSAGEPACK.md.
/// </summary>
/// <remarks>
/// Thread-safe: one instance serves every connection. Malformed input throws <see cref="MessagePackFormatException"/>,
/// which closes that connection; a value that is well-formed but does not
/// fit the hub method's parameter type yields <see cref="InvocationBindingFailureMessage"/> or
/// <see cref="StreamBindingFailureMessage"/>, so the caller gets an error completion instead.
/// </remarks>
public sealed class MessagePackHubProtocol : IHubProtocol
{
    /// <summary>The protocol name clients put in their handshake.</summary>
    public const string ProtocolName = "messagepack";

    /// <summary>
    /// The version the official clients announce (the .NET <c>MessagePackHubProtocol</c> and the JavaScript
    /// <c>@microsoft/signalr-protocol-msgpack</c> both report 2).
    /// </summary>
    public const int ProtocolVersion = 2;

    private const int ErrorResult = 1;
    private const int VoidResult = 2;
    private const int NonVoidResult = 3;

    private readonly int _maxMessageSize;
    private readonly int _maxDepth;
    private readonly JsonSerializerOptions _serializerOptions;
    private readonly TaskContractCodec? _contracts;

    public MessagePackHubProtocol()
        : this(new MessagePackHubProtocolOptions())
    {
    }

    public MessagePackHubProtocol(MessagePackHubProtocolOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _maxMessageSize = options.MaximumMessageSize;
        _maxDepth = options.MaximumNestingDepth;
        _serializerOptions = options.PayloadSerializerOptions;
        _contracts = TaskContractCodec.For(_serializerOptions, _maxDepth);
    }

    public string Name => ProtocolName;

    public int Version => ProtocolVersion;

    public TransferFormat TransferFormat => TransferFormat.Binary;

    /// <summary>Versions 1 and 2 carry the same message layouts, so both are accepted; anything else is not.</summary>
    public bool IsVersionSupported(int version) => version is >= 1 and <= ProtocolVersion;

    /// <summary>
    /// Parses the next message. Returns false, with <paramref name="input"/> unchanged, when no complete frame is
    /// buffered. Frames with a message type this implementation does not know are consumed and skipped (the
    /// official clients do the same, so that later protocol versions can add messages); parsing then continues
    /// with the next buffered frame.
    /// </summary>
    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message)
    {
        ArgumentNullException.ThrowIfNull(binder);
        while (BinaryFraming.TryReadFrame(ref input, _maxMessageSize, out var body))
        {
            message = ParseBody(body, binder);
            if (message is not null)
            {
                return true;
            }
        }

        message = null;
        return false;
    }

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(output);
        using var body = new PooledBufferWriter(InitialBodyCapacity(message));
        WriteBody(message, body);

        // One request for the whole frame: a pipe then hands out one segment for it, so the transport sends it as
        // one WebSocket frame instead of one per 4 KiB block.
        var prefixLength = BinaryFraming.GetPrefixLength(body.WrittenCount);
        var frameLength = prefixLength + body.WrittenCount;
        var frame = output.GetSpan(frameLength);
        BinaryFraming.WritePrefix(body.WrittenCount, frame);
        body.WrittenSpan.CopyTo(frame[prefixLength..]);
        output.Advance(frameLength);
    }

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var body = new PooledBufferWriter(InitialBodyCapacity(message));
        WriteBody(message, body);

        var prefixLength = BinaryFraming.GetPrefixLength(body.WrittenCount);
        var bytes = new byte[prefixLength + body.WrittenCount];
        BinaryFraming.WritePrefix(body.WrittenCount, bytes);
        body.WrittenSpan.CopyTo(bytes.AsSpan(prefixLength));
        return bytes;
    }

    /// <summary>
    /// Room for the envelope plus any raw payload or byte buffer the message carries, so a large body is written
    /// into one buffer instead of growing (and copying) it step by step.
    /// </summary>
    private static int InitialBodyCapacity(HubMessage message)
    {
        long size = 256;
        switch (message)
        {
            case HubMethodInvocationMessage { Arguments: { } arguments }:
                foreach (var argument in arguments)
                {
                    size += KnownSize(argument);
                }

                break;
            case CompletionMessage { HasResult: true } completion:
                size += KnownSize(completion.Result);
                break;
            case StreamItemMessage item:
                size += KnownSize(item.Item);
                break;
        }

        return (int)Math.Min(size, 16 * 1024 * 1024);

        static int KnownSize(object? value) => value switch
        {
            IRawMessagePackCarrier { RawMessagePack: { } raw } => raw.Length,
            byte[] bytes => bytes.Length + 5,
            ReadOnlyMemory<byte> memory => memory.Length + 5,
            _ => 0,
        };
    }

    // ---------------------------------------------------------------- reading

    private HubMessage? ParseBody(ReadOnlySequence<byte> body, IInvocationBinder binder)
    {
        if (body.IsSingleSegment)
        {
            return ParseBody(body.FirstSpan, binder);
        }

        // The whole frame has arrived (its size is bounded by the limit), so copying it is safe.
        var length = (int)body.Length;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            body.CopyTo(rented);
            return ParseBody(rented.AsSpan(0, length), binder);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private HubMessage? ParseBody(ReadOnlySpan<byte> body, IInvocationBinder binder)
    {
        if (body.IsEmpty)
        {
            throw new MessagePackFormatException("A message frame must not be empty.");
        }

        var reader = new MessagePackReader(body, _maxDepth);
        var itemCount = Field(ref reader, "message").ReadArrayHeader();
        if (itemCount == 0)
        {
            throw new MessagePackFormatException("A message must be a non-empty array.");
        }

        var messageType = ReadInt32(ref reader, "messageType");
        return messageType switch
        {
            HubProtocolConstants.InvocationMessageType => ParseInvocation(ref reader, binder, itemCount, streaming: false),
            HubProtocolConstants.StreamInvocationMessageType => ParseInvocation(ref reader, binder, itemCount, streaming: true),
            HubProtocolConstants.StreamItemMessageType => ParseStreamItem(ref reader, binder, itemCount),
            HubProtocolConstants.CompletionMessageType => ParseCompletion(ref reader, binder, itemCount),
            HubProtocolConstants.CancelInvocationMessageType => ParseCancelInvocation(ref reader, itemCount),
            HubProtocolConstants.PingMessageType => Finish(ref reader, itemCount, 1, PingMessage.Instance),
            HubProtocolConstants.CloseMessageType => ParseClose(ref reader, itemCount),
            HubProtocolConstants.AckMessageType => ParseSequenceId(ref reader, itemCount, "Ack", static id => new AckMessage(id)),
            HubProtocolConstants.SequenceMessageType => ParseSequenceId(ref reader, itemCount, "Sequence", static id => new SequenceMessage(id)),
            _ => null, // unknown types are skipped for forward compatibility
        };
    }

    private HubMessage ParseInvocation(ref MessagePackReader reader, IInvocationBinder binder, int itemCount, bool streaming)
    {
        var kind = streaming ? "StreamInvocation" : "Invocation";
        RequireItems(itemCount, 5, kind);

        var headers = ReadHeaders(ref reader);
        var invocationId = ReadString(ref reader, "invocationId");
        if (string.IsNullOrEmpty(invocationId))
        {
            if (streaming)
            {
                throw new MessagePackFormatException("A StreamInvocation message needs an invocation id.");
            }

            invocationId = null; // a non-blocking invocation
        }

        var target = ReadTarget(ref reader, binder);

        IReadOnlyList<Type> parameterTypes;
        try
        {
            parameterTypes = binder.GetParameterTypes(target);
        }
        catch (Exception ex)
        {
            return new InvocationBindingFailureMessage(invocationId, target, ExceptionDispatchInfo.Capture(ex));
        }

        var argumentCount = Field(ref reader, "arguments").ReadArrayHeader();
        if (argumentCount != parameterTypes.Count)
        {
            var mismatch = new InvalidDataException($"Invocation provides {argumentCount} argument(s) but target expects {parameterTypes.Count}.");
            return new InvocationBindingFailureMessage(invocationId, target, ExceptionDispatchInfo.Capture(mismatch));
        }

        var arguments = new object?[argumentCount];
        for (var i = 0; i < argumentCount; i++)
        {
            try
            {
                arguments[i] = BindValue(ref reader, parameterTypes[i]);
            }
            catch (Exception ex) when (ex is not MessagePackFormatException)
            {
                var failure = new InvalidDataException(
                    $"Error binding argument {i + 1}. Make sure that the types of the provided values match the types of the hub method being invoked.", ex);
                return new InvocationBindingFailureMessage(invocationId, target, ExceptionDispatchInfo.Capture(failure));
            }
        }

        // Older clients send 5 items (no stream ids).
        var streamIds = itemCount > 5 ? ReadStreamIds(ref reader) : null;

        HubInvocationMessage message = streaming
            ? new StreamInvocationMessage(invocationId!, target, arguments, streamIds)
            : new InvocationMessage(invocationId, target, arguments, streamIds);
        return Finish(ref reader, itemCount, itemCount > 5 ? 6 : 5, ApplyHeaders(headers, message));
    }

    private HubMessage ParseStreamItem(ref MessagePackReader reader, IInvocationBinder binder, int itemCount)
    {
        RequireItems(itemCount, 4, "StreamItem");
        var headers = ReadHeaders(ref reader);
        var invocationId = ReadRequiredString(ref reader, "invocationId", "StreamItem");

        object? item;
        try
        {
            var itemType = binder.GetStreamItemType(invocationId);
            item = BindValue(ref reader, itemType);
        }
        catch (Exception ex) when (ex is not MessagePackFormatException)
        {
            return new StreamBindingFailureMessage(invocationId, ExceptionDispatchInfo.Capture(ex));
        }

        return Finish(ref reader, itemCount, 4, ApplyHeaders(headers, new StreamItemMessage(invocationId, item)));
    }

    private HubMessage ParseCompletion(ref MessagePackReader reader, IInvocationBinder binder, int itemCount)
    {
        RequireItems(itemCount, 4, "Completion");
        var headers = ReadHeaders(ref reader);
        var invocationId = ReadRequiredString(ref reader, "invocationId", "Completion");
        var resultKind = ReadInt32(ref reader, "resultKind");

        string? error = null;
        object? result = null;
        var hasResult = false;
        var consumed = 4;
        switch (resultKind)
        {
            case ErrorResult:
                RequireItems(itemCount, 5, "Completion with an error");
                error = ReadRequiredString(ref reader, "error", "Completion");
                consumed = 5;
                break;
            case VoidResult:
                break;
            case NonVoidResult:
                RequireItems(itemCount, 5, "Completion with a result");
                consumed = 5;
                hasResult = true;
                Type? resultType;
                try
                {
                    resultType = binder.GetReturnType(invocationId);
                }
                catch
                {
                    // Unknown invocation id: the server reports that itself; the value is still well-formed data.
                    resultType = null;
                }

                if (resultType is null)
                {
                    reader.Skip();
                    break;
                }

                try
                {
                    result = BindValue(ref reader, resultType);
                }
                catch (Exception ex) when (ex is not MessagePackFormatException)
                {
                    // Same behaviour as SignalR's JSON protocol: the completion carries the binding error.
                    return ApplyHeaders(headers, new CompletionMessage(invocationId, $"Error trying to deserialize result to {resultType.Name}. {ex.Message}", null, hasResult: false));
                }

                break;
            default:
                throw new MessagePackFormatException($"Invalid completion result kind {resultKind}; expected 1 (error), 2 (void) or 3 (result).");
        }

        return Finish(ref reader, itemCount, consumed, ApplyHeaders(headers, new CompletionMessage(invocationId, error, result, hasResult)));
    }

    private static HubMessage ParseCancelInvocation(ref MessagePackReader reader, int itemCount)
    {
        RequireItems(itemCount, 3, "CancelInvocation");
        var headers = ReadHeaders(ref reader);
        var invocationId = ReadRequiredString(ref reader, "invocationId", "CancelInvocation");
        return Finish(ref reader, itemCount, 3, ApplyHeaders(headers, new CancelInvocationMessage(invocationId)));
    }

    private static HubMessage ParseClose(ref MessagePackReader reader, int itemCount)
    {
        RequireItems(itemCount, 2, "Close");
        var error = ReadString(ref reader, "error");
        var allowReconnect = false;
        if (itemCount > 2)
        {
            try
            {
                allowReconnect = reader.ReadBoolean();
            }
            catch (MessagePackFormatException ex)
            {
                throw new MessagePackFormatException($"Reading 'allowReconnect' failed. {ex.Message}", ex);
            }
        }

        var message = error is null && !allowReconnect ? CloseMessage.Empty : new CloseMessage(error, allowReconnect);
        return Finish(ref reader, itemCount, itemCount > 2 ? 3 : 2, message);
    }

    private static HubMessage ParseSequenceId(ref MessagePackReader reader, int itemCount, string kind, Func<long, HubMessage> create)
    {
        RequireItems(itemCount, 2, kind);
        long sequenceId;
        try
        {
            sequenceId = reader.ReadInt64();
        }
        catch (MessagePackFormatException ex)
        {
            throw new MessagePackFormatException($"Reading 'sequenceId' failed. {ex.Message}", ex);
        }

        return Finish(ref reader, itemCount, 2, create(sequenceId));
    }

    private object? BindValue(ref MessagePackReader reader, Type type)
    {
        if (type == typeof(RawResult))
        {
            // Kept as MessagePack bytes (e.g. a client result relayed elsewhere); copied, the frame buffer is reused.
            return new RawResult(new ReadOnlySequence<byte>(reader.ReadRaw().ToArray()));
        }

        if (reader.NextType == MessagePackType.Binary)
        {
            if (type == typeof(byte[]))
            {
                return reader.ReadBinary().ToArray();
            }

            if (type == typeof(ReadOnlyMemory<byte>) || type == typeof(ReadOnlyMemory<byte>?))
            {
                return new ReadOnlyMemory<byte>(reader.ReadBinary().ToArray());
            }

            if (type == typeof(Memory<byte>) || type == typeof(Memory<byte>?))
            {
                return new Memory<byte>(reader.ReadBinary().ToArray());
            }
        }

        if (_contracts is not null && reader.NextType == MessagePackType.Map && TaskContractCodec.Handles(type))
        {
            // A task contract, read directly; its payload/result stays MessagePack.
            return _contracts.Read(ref reader, type);
        }

        using var json = new PooledBufferWriter();
        if (RawMessagePackView.FieldOf(type) is { } field && reader.NextType == MessagePackType.Map)
        {
            // A task contract: its payload/result stays MessagePack (copied out of the reused frame buffer) and
            // only the envelope goes through JSON. The JSON view is built if and when something reads it.
            byte[]? raw;
            using (var jsonWriter = new Utf8JsonWriter(json, MessagePackJsonTranscoder.JsonWriterOptions))
            {
                MessagePackJsonTranscoder.WriteJsonObjectCapturing(ref reader, jsonWriter, Encoding.UTF8.GetBytes(field), out raw);
            }

            var carrier = JsonSerializer.Deserialize(json.WrittenSpan, type, _serializerOptions);
            if (raw is not null && carrier is IRawMessagePackCarrier target)
            {
                target.AttachRawMessagePack(raw);
            }

            return carrier;
        }

        using (var jsonWriter = new Utf8JsonWriter(json, MessagePackJsonTranscoder.JsonWriterOptions))
        {
            MessagePackJsonTranscoder.WriteJson(ref reader, jsonWriter);
        }

        return JsonSerializer.Deserialize(json.WrittenSpan, type, _serializerOptions);
    }

    private static Dictionary<string, string>? ReadHeaders(ref MessagePackReader reader)
    {
        var count = Field(ref reader, "headers").ReadMapHeader();
        if (count == 0)
        {
            return null;
        }

        var headers = new Dictionary<string, string>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var key = ReadString(ref reader, "header name");
            var value = ReadString(ref reader, "header value");
            if (string.IsNullOrEmpty(key) || value is null)
            {
                throw new MessagePackFormatException("Header names must be non-empty strings and header values strings.");
            }

            if (!headers.TryAdd(key, value))
            {
                throw new MessagePackFormatException($"The header '{key}' appears twice.");
            }
        }

        return headers;
    }

    private static string[]? ReadStreamIds(ref MessagePackReader reader)
    {
        var count = Field(ref reader, "streamIds").ReadArrayHeader();
        if (count == 0)
        {
            return null;
        }

        var ids = new string[count];
        for (var i = 0; i < count; i++)
        {
            var id = ReadString(ref reader, "streamIds");
            if (string.IsNullOrEmpty(id))
            {
                throw new MessagePackFormatException("Stream ids must be non-empty strings.");
            }

            ids[i] = id;
        }

        return ids;
    }

    private static string ReadTarget(ref MessagePackReader reader, IInvocationBinder binder)
    {
        if (reader.NextType == MessagePackType.String)
        {
            var start = reader.Position;
            var utf8 = reader.ReadStringSpan();
            if (!System.Text.Unicode.Utf8.IsValid(utf8))
            {
                throw new MessagePackFormatException($"The target at offset {start} is not valid UTF-8.");
            }

            // The binder can hand back its own interned string for a known method name.
            var target = binder.GetTarget(utf8) ?? Encoding.UTF8.GetString(utf8);
            if (target.Length > 0)
            {
                return target;
            }
        }
        else
        {
            Field(ref reader, "target").ReadStringSpan(); // throws the type error
        }

        throw new MessagePackFormatException("The target of an invocation must be a non-empty string.");
    }

    private static string ReadRequiredString(ref MessagePackReader reader, string field, string kind)
    {
        var value = ReadString(ref reader, field);
        if (string.IsNullOrEmpty(value))
        {
            throw new MessagePackFormatException($"A {kind} message needs a non-empty '{field}'.");
        }

        return value;
    }

    private static string? ReadString(ref MessagePackReader reader, string field)
    {
        try
        {
            return reader.ReadString();
        }
        catch (MessagePackFormatException ex)
        {
            throw new MessagePackFormatException($"Reading '{field}' failed. {ex.Message}", ex);
        }
    }

    private static int ReadInt32(ref MessagePackReader reader, string field)
    {
        try
        {
            return reader.ReadInt32();
        }
        catch (MessagePackFormatException ex)
        {
            throw new MessagePackFormatException($"Reading '{field}' failed. {ex.Message}", ex);
        }
    }

    /// <summary>Checks that the next value is present before a header read, so errors name the field.</summary>
    private static ref MessagePackReader Field(ref MessagePackReader reader, string field)
    {
        if (reader.End)
        {
            throw new MessagePackFormatException($"The message ends before '{field}'.");
        }

        return ref reader;
    }

    private static void RequireItems(int itemCount, int minimum, string kind)
    {
        if (itemCount < minimum)
        {
            throw new MessagePackFormatException($"A {kind} message has {itemCount} item(s); at least {minimum} are required.");
        }
    }

    /// <summary>Skips items a later protocol version may append, then requires the frame to end with the array.</summary>
    private static HubMessage Finish(ref MessagePackReader reader, int itemCount, int consumed, HubMessage message)
    {
        for (var i = consumed; i < itemCount; i++)
        {
            reader.Skip();
        }

        if (!reader.End)
        {
            throw new MessagePackFormatException($"Unexpected {reader.Remaining} byte(s) after the message array.");
        }

        return message;
    }

    private static T ApplyHeaders<T>(Dictionary<string, string>? headers, T message)
        where T : HubInvocationMessage
    {
        if (headers is not null)
        {
            message.Headers = headers;
        }

        return message;
    }

    // ---------------------------------------------------------------- writing

    private void WriteBody(HubMessage message, IBufferWriter<byte> body)
    {
        var writer = new MessagePackWriter(body);
        switch (message)
        {
            case InvocationMessage m:
                writer.WriteArrayHeader(6);
                writer.Write(HubProtocolConstants.InvocationMessageType);
                WriteHeaders(ref writer, m.Headers);
                writer.Write(string.IsNullOrEmpty(m.InvocationId) ? null : m.InvocationId);
                writer.Write(m.Target);
                WriteArguments(ref writer, m.Arguments);
                WriteStreamIds(ref writer, m.StreamIds);
                break;
            case StreamInvocationMessage m:
                writer.WriteArrayHeader(6);
                writer.Write(HubProtocolConstants.StreamInvocationMessageType);
                WriteHeaders(ref writer, m.Headers);
                writer.Write(m.InvocationId);
                writer.Write(m.Target);
                WriteArguments(ref writer, m.Arguments);
                WriteStreamIds(ref writer, m.StreamIds);
                break;
            case StreamItemMessage m:
                writer.WriteArrayHeader(4);
                writer.Write(HubProtocolConstants.StreamItemMessageType);
                WriteHeaders(ref writer, m.Headers);
                writer.Write(m.InvocationId);
                WriteValue(ref writer, m.Item);
                break;
            case CompletionMessage m:
                var kind = m.Error is not null ? ErrorResult : m.HasResult ? NonVoidResult : VoidResult;
                writer.WriteArrayHeader(kind == VoidResult ? 4 : 5);
                writer.Write(HubProtocolConstants.CompletionMessageType);
                WriteHeaders(ref writer, m.Headers);
                writer.Write(m.InvocationId);
                writer.Write(kind);
                if (kind == ErrorResult)
                {
                    writer.Write(m.Error);
                }
                else if (kind == NonVoidResult)
                {
                    WriteValue(ref writer, m.Result);
                }

                break;
            case CancelInvocationMessage m:
                writer.WriteArrayHeader(3);
                writer.Write(HubProtocolConstants.CancelInvocationMessageType);
                WriteHeaders(ref writer, m.Headers);
                writer.Write(m.InvocationId);
                break;
            case PingMessage:
                writer.WriteArrayHeader(1);
                writer.Write(HubProtocolConstants.PingMessageType);
                break;
            case CloseMessage m:
                // The spec's 2-item form when there is nothing to say about reconnecting; readers treat a missing
                // third item as false.
                writer.WriteArrayHeader(m.AllowReconnect ? 3 : 2);
                writer.Write(HubProtocolConstants.CloseMessageType);
                writer.Write(string.IsNullOrEmpty(m.Error) ? null : m.Error);
                if (m.AllowReconnect)
                {
                    writer.Write(true);
                }

                break;
            case AckMessage m:
                writer.WriteArrayHeader(2);
                writer.Write(HubProtocolConstants.AckMessageType);
                writer.Write(m.SequenceId);
                break;
            case SequenceMessage m:
                writer.WriteArrayHeader(2);
                writer.Write(HubProtocolConstants.SequenceMessageType);
                writer.Write(m.SequenceId);
                break;
            default:
                throw new InvalidDataException($"Unexpected message type: {message.GetType().Name}");
        }
    }

    private static void WriteHeaders(ref MessagePackWriter writer, IDictionary<string, string>? headers)
    {
        if (headers is null)
        {
            writer.WriteMapHeader(0);
            return;
        }

        writer.WriteMapHeader(headers.Count);
        foreach (var (key, value) in headers)
        {
            writer.Write(key);
            writer.Write(value);
        }
    }

    private void WriteArguments(ref MessagePackWriter writer, object?[]? arguments)
    {
        if (arguments is null)
        {
            writer.WriteArrayHeader(0);
            return;
        }

        writer.WriteArrayHeader(arguments.Length);
        foreach (var argument in arguments)
        {
            WriteValue(ref writer, argument);
        }
    }

    private static void WriteStreamIds(ref MessagePackWriter writer, string[]? streamIds)
    {
        if (streamIds is null)
        {
            writer.WriteArrayHeader(0);
            return;
        }

        writer.WriteArrayHeader(streamIds.Length);
        foreach (var id in streamIds)
        {
            writer.Write(id);
        }
    }

    /// <summary>
    /// Writes a task contract whose payload/result is raw MessagePack: the other fields go through System.Text.Json
    /// (with the raw field as a null placeholder) and the raw bytes take the placeholder's place unchanged.
    /// </summary>
    private void WriteCarrier(ref MessagePackWriter writer, object value, ReadOnlySpan<byte> raw)
    {
        var field = RawMessagePackView.FieldOf(value.GetType())!;
        var name = _serializerOptions.PropertyNamingPolicy?.ConvertName(field) ?? field;

        using var json = new PooledBufferWriter();
        using (RawMessagePackView.Hide())
        using (var jsonWriter = new Utf8JsonWriter(json, MessagePackJsonTranscoder.JsonWriterOptions))
        {
            JsonSerializer.Serialize(jsonWriter, value, value.GetType(), _serializerOptions);
        }

        var depth = _serializerOptions.MaxDepth > 0 ? _serializerOptions.MaxDepth : MessagePackReader.DefaultMaxDepth;
        if (!MessagePackJsonTranscoder.WriteMessagePack(json.WrittenSpan, ref writer, Math.Max(depth, _maxDepth), Encoding.UTF8.GetBytes(name), raw))
        {
            throw new InvalidOperationException($"{value.GetType().Name} was serialized without its '{name}' field, so its raw MessagePack could not be written.");
        }
    }

    /// <summary>
    /// Writes a payload value. Byte buffers become bin (not base64 text); <see cref="DateTime"/> and
    /// <see cref="DateTimeOffset"/> become the timestamp extension (as the official protocol writes them); strings,
    /// booleans and numbers are written directly; <see cref="RawResult"/> is copied as-is; everything else goes
    /// through System.Text.Json and the JSON-to-MessagePack transcoder (so nested byte arrays and dates are strings).
    /// </summary>
    private void WriteValue(ref MessagePackWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNil();
                return;
            case string s:
                writer.Write(s);
                return;
            case bool b:
                writer.Write(b);
                return;
            case int i:
                writer.Write(i);
                return;
            case long l:
                writer.Write(l);
                return;
            case short s16:
                writer.Write(s16);
                return;
            case sbyte s8:
                writer.Write(s8);
                return;
            case byte u8:
                writer.Write((ulong)u8);
                return;
            case ushort u16:
                writer.Write((ulong)u16);
                return;
            case uint u32:
                writer.Write((ulong)u32);
                return;
            case ulong u64:
                writer.Write(u64);
                return;
            case double d:
                writer.Write(d);
                return;
            case float f:
                writer.Write(f);
                return;
            case byte[] bytes:
                writer.WriteBinary(bytes);
                return;
            case ReadOnlyMemory<byte> readOnlyMemory:
                writer.WriteBinary(readOnlyMemory.Span);
                return;
            case Memory<byte> memory:
                writer.WriteBinary(memory.Span);
                return;
            case ArraySegment<byte> segment:
                writer.WriteBinary(segment);
                return;
            case DateTime dateTime:
                writer.Write(dateTime);
                return;
            case DateTimeOffset dateTimeOffset:
                writer.Write(dateTimeOffset.UtcDateTime);
                return;
            case RawResult raw:
                foreach (var part in raw.RawSerializedData)
                {
                    writer.WriteRaw(part.Span);
                }

                return;
            case TaskRequest or TaskAssignment or TaskCompletion or TaskResult when _contracts is not null:
                _contracts.Write(ref writer, value);
                return;
            case IRawMessagePackCarrier { RawMessagePack: { } rawValue }:
                WriteCarrier(ref writer, value, rawValue.Span);
                return;
        }

        using var json = new PooledBufferWriter();
        using (var jsonWriter = new Utf8JsonWriter(json, MessagePackJsonTranscoder.JsonWriterOptions))
        {
            JsonSerializer.Serialize(jsonWriter, value, value.GetType(), _serializerOptions);
        }

        var depth = _serializerOptions.MaxDepth > 0 ? _serializerOptions.MaxDepth : MessagePackReader.DefaultMaxDepth;
        MessagePackJsonTranscoder.WriteMessagePack(json.WrittenSpan, ref writer, Math.Max(depth, _maxDepth));
    }
}
