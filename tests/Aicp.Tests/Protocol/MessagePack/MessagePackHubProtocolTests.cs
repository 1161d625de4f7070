using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Aicp.Protocol.MessagePack;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR.Protocol;
using static Aicp.Tests.Protocol.MessagePack.MessagePackTestHelpers;

namespace Aicp.Tests.Protocol.MessagePack;

public class MessagePackHubProtocolTests
{
    // Byte sequences from the hub protocol specification (src/SignalR/docs/specs/HubProtocol.md).
    private static readonly byte[] Xyz = Bytes(0xa3, 0x78, 0x79, 0x7a);
    private static readonly byte[] Method = Bytes(0xa6, 0x6d, 0x65, 0x74, 0x68, 0x6f, 0x64);
    private static readonly byte[] StringArg = Bytes(0xa6, 0x73, 0x74, 0x72, 0x69, 0x6e, 0x67);

    private readonly MessagePackHubProtocol _protocol = new();

    private static byte[] Frame(params byte[][] payload)
    {
        var body = Concat(payload);
        var prefix = new List<byte>();
        var length = (uint)body.Length;
        do
        {
            var b = (byte)(length & 0x7f);
            length >>= 7;
            prefix.Add(length > 0 ? (byte)(b | 0x80) : b);
        }
        while (length > 0);

        return Concat(prefix.ToArray(), body);
    }

    private byte[] WriteFrame(HubMessage message)
    {
        var output = new ArrayBufferWriter<byte>();
        _protocol.WriteMessage(message, output);
        var bytes = output.WrittenSpan.ToArray();
        Assert.Equal(bytes, _protocol.GetMessageBytes(message).ToArray());
        return bytes;
    }

    private HubMessage Parse(byte[] frame, TestInvocationBinder? binder = null)
    {
        var input = new ReadOnlySequence<byte>(frame);
        Assert.True(_protocol.TryParseMessage(ref input, binder ?? new TestInvocationBinder(), out var message));
        Assert.Equal(0, input.Length);
        return message!;
    }

    // ------------------------------------------------------------- identity

    [Fact]
    public void Properties_Defaults_MatchOfficialProtocol()
    {
        Assert.Equal("messagepack", _protocol.Name);
        Assert.Equal(2, _protocol.Version);
        Assert.Equal(TransferFormat.Binary, _protocol.TransferFormat);
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(0, false)]
    [InlineData(3, false)]
    public void IsVersionSupported_Version_OnlyOneAndTwo(int version, bool expected)
    {
        Assert.Equal(expected, _protocol.IsVersionSupported(version));
    }

    [Fact]
    public void Constructor_SeveralInvalidOptions_ReportsAllAtOnce()
    {
        var ex = Assert.Throws<ArgumentException>(() => new MessagePackHubProtocol(new MessagePackHubProtocolOptions
        {
            MaximumMessageSize = 0,
            MaximumNestingDepth = 0,
            PayloadSerializerOptions = null!,
        }));

        Assert.Contains("MaximumMessageSize", ex.Message);
        Assert.Contains("MaximumNestingDepth", ex.Message);
        Assert.Contains("PayloadSerializerOptions", ex.Message);
    }

    [Fact]
    public void Options_Defaults_EqualJsonProtocolDefaults()
    {
        var options = new MessagePackHubProtocolOptions();

        Assert.Equal(1024 * 1024 + 64 * 1024, options.MaximumMessageSize);
        Assert.Equal(64, options.MaximumNestingDepth);
        Assert.Same(JsonNamingPolicy.CamelCase, options.PayloadSerializerOptions.PropertyNamingPolicy);
        Assert.True(options.PayloadSerializerOptions.PropertyNameCaseInsensitive);
    }

    // ------------------------------------------------------------- writing: exact bytes

    [Fact]
    public void WriteMessage_Ping_SpecBytes()
    {
        Assert.Equal(Bytes(0x02, 0x91, 0x06), WriteFrame(PingMessage.Instance));
    }

    [Fact]
    public void WriteMessage_Invocation_SpecBytes()
    {
        var frame = WriteFrame(new InvocationMessage("xyz", "method", [42, "string"]));

        Assert.Equal(Frame(Bytes(0x96, 0x01, 0x80), Xyz, Method, Bytes(0x92, 0x2a), StringArg, Bytes(0x90)), frame);
    }

    [Fact]
    public void WriteMessage_NonBlockingInvocation_NilInvocationId()
    {
        var frame = WriteFrame(new InvocationMessage("method", [42]));

        Assert.Equal(Frame(Bytes(0x96, 0x01, 0x80, 0xc0), Method, Bytes(0x91, 0x2a, 0x90)), frame);
    }

    [Fact]
    public void WriteMessage_InvocationWithHeadersAndStreamIds_SpecBytes()
    {
        var message = new InvocationMessage("xyz", "method", [42], ["1"])
        {
            Headers = new Dictionary<string, string> { ["x"] = "y", ["z"] = "z" },
        };

        var frame = WriteFrame(message);

        Assert.Equal(
            Frame(Bytes(0x96, 0x01, 0x82, 0xa1, 0x78, 0xa1, 0x79, 0xa1, 0x7a, 0xa1, 0x7a), Xyz, Method, Bytes(0x91, 0x2a, 0x91, 0xa1, 0x31)),
            frame);
    }

    [Fact]
    public void WriteMessage_StreamInvocation_SpecBytes()
    {
        var frame = WriteFrame(new StreamInvocationMessage("xyz", "method", [42]));

        Assert.Equal(Frame(Bytes(0x96, 0x04, 0x80), Xyz, Method, Bytes(0x91, 0x2a, 0x90)), frame);
    }

    [Fact]
    public void WriteMessage_StreamItem_SpecBytes()
    {
        Assert.Equal(Frame(Bytes(0x94, 0x02, 0x80), Xyz, Bytes(0x2a)), WriteFrame(new StreamItemMessage("xyz", 42)));
    }

    [Fact]
    public void WriteMessage_CompletionWithError_SpecBytes()
    {
        var frame = WriteFrame(CompletionMessage.WithError("xyz", "Error"));

        Assert.Equal(Frame(Bytes(0x95, 0x03, 0x80), Xyz, Bytes(0x01, 0xa5, 0x45, 0x72, 0x72, 0x6f, 0x72)), frame);
    }

    [Fact]
    public void WriteMessage_VoidCompletion_SpecBytes()
    {
        Assert.Equal(Frame(Bytes(0x94, 0x03, 0x80), Xyz, Bytes(0x02)), WriteFrame(CompletionMessage.Empty("xyz")));
    }

    [Fact]
    public void WriteMessage_CompletionWithResult_SpecBytes()
    {
        Assert.Equal(Frame(Bytes(0x95, 0x03, 0x80), Xyz, Bytes(0x03, 0x2a)), WriteFrame(CompletionMessage.WithResult("xyz", 42)));
    }

    [Fact]
    public void WriteMessage_CompletionWithNullResult_NonVoidWithNil()
    {
        Assert.Equal(Frame(Bytes(0x95, 0x03, 0x80), Xyz, Bytes(0x03, 0xc0)), WriteFrame(CompletionMessage.WithResult("xyz", null)));
    }

    [Fact]
    public void WriteMessage_CancelInvocation_SpecBytes()
    {
        Assert.Equal(Frame(Bytes(0x93, 0x05, 0x80), Xyz), WriteFrame(new CancelInvocationMessage("xyz")));
    }

    [Fact]
    public void WriteMessage_CloseWithError_SpecBytes()
    {
        Assert.Equal(Frame(Bytes(0x92, 0x07), Xyz), WriteFrame(new CloseMessage("xyz")));
    }

    [Fact]
    public void WriteMessage_CloseAllowingReconnect_SpecBytes()
    {
        Assert.Equal(Frame(Bytes(0x93, 0x07), Xyz, Bytes(0xc3)), WriteFrame(new CloseMessage("xyz", allowReconnect: true)));
    }

    [Fact]
    public void WriteMessage_EmptyClose_NilError()
    {
        Assert.Equal(Bytes(0x03, 0x92, 0x07, 0xc0), WriteFrame(CloseMessage.Empty));
    }

    [Fact]
    public void WriteMessage_AckAndSequence_SmallestInteger()
    {
        Assert.Equal(Bytes(0x03, 0x92, 0x08, 0x24), WriteFrame(new AckMessage(36)));
        Assert.Equal(Bytes(0x04, 0x92, 0x09, 0xcc, 0xc8), WriteFrame(new SequenceMessage(200)));
    }

    [Fact]
    public void WriteMessage_BodyOver127Bytes_TwoByteVarIntPrefix()
    {
        var text = new string('a', 200);

        var frame = WriteFrame(new StreamItemMessage("xyz", text));

        // body: 0x94 0x02 0x80 + 4 (id) + 2 (str8 header) + 200 = 209 = 0xd1 -> VarInt 0xd1 0x01
        Assert.Equal(Bytes(0xd1, 0x01), frame[..2]);
        Assert.Equal(211, frame.Length);
        var parsed = Assert.IsType<StreamItemMessage>(Parse(frame, new TestInvocationBinder().Streams("xyz", typeof(string))));
        Assert.Equal(text, parsed.Item);
    }

    [Fact]
    public void WriteMessage_UnsupportedMessage_Throws()
    {
        var failure = new InvocationBindingFailureMessage("1", "m", System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(new Exception()));
        Assert.Throws<InvalidDataException>(() => _protocol.GetMessageBytes(failure));
    }

    // ------------------------------------------------------------- reading: spec bytes

    [Fact]
    public void TryParseMessage_Ping_PingInstance()
    {
        Assert.Same(PingMessage.Instance, Parse(Bytes(0x02, 0x91, 0x06)));
    }

    [Fact]
    public void TryParseMessage_Invocation_SpecBytes()
    {
        var binder = new TestInvocationBinder().Method("method", typeof(int), typeof(string));

        var message = Assert.IsType<InvocationMessage>(Parse(Frame(Bytes(0x96, 0x01, 0x80), Xyz, Method, Bytes(0x92, 0x2a), StringArg, Bytes(0x90)), binder));

        Assert.Equal("xyz", message.InvocationId);
        Assert.Equal("method", message.Target);
        Assert.Equal(new object[] { 42, "string" }, message.Arguments);
        Assert.Null(message.StreamIds);
        Assert.Null(message.Headers);
    }

    [Fact]
    public void TryParseMessage_NonBlockingInvocation_NullInvocationId()
    {
        var binder = new TestInvocationBinder().Method("method", typeof(int));

        var message = Assert.IsType<InvocationMessage>(Parse(Frame(Bytes(0x96, 0x01, 0x80, 0xc0), Method, Bytes(0x91, 0x2a, 0x90)), binder));

        Assert.Null(message.InvocationId);
        Assert.Equal(42, message.Arguments[0]);
    }

    [Fact]
    public void TryParseMessage_InvocationWithHeaders_HeadersRead()
    {
        var binder = new TestInvocationBinder().Method("method", typeof(int));
        var frame = Frame(Bytes(0x96, 0x01, 0x82, 0xa1, 0x78, 0xa1, 0x79, 0xa1, 0x7a, 0xa1, 0x7a), Xyz, Method, Bytes(0x91, 0x2a, 0x90));

        var message = Assert.IsType<InvocationMessage>(Parse(frame, binder));

        Assert.Equal(new Dictionary<string, string> { ["x"] = "y", ["z"] = "z" }, message.Headers);
    }

    [Fact]
    public void TryParseMessage_InvocationWithStreamIds_StreamIdsRead()
    {
        var binder = new TestInvocationBinder().Method("method");
        var frame = Frame(Bytes(0x96, 0x01, 0x80), Xyz, Method, Bytes(0x90, 0x92, 0xa1, 0x31, 0xa1, 0x32));

        var message = Assert.IsType<InvocationMessage>(Parse(frame, binder));

        Assert.Equal(new[] { "1", "2" }, message.StreamIds);
        Assert.Empty(message.Arguments);
    }

    [Fact]
    public void TryParseMessage_FiveItemInvocation_AcceptedWithoutStreamIds()
    {
        // The JavaScript client omits the stream id array when there are no streams.
        var binder = new TestInvocationBinder().Method("method", typeof(int));

        var message = Assert.IsType<InvocationMessage>(Parse(Frame(Bytes(0x95, 0x01, 0x80), Xyz, Method, Bytes(0x91, 0x2a)), binder));

        Assert.Null(message.StreamIds);
        Assert.Equal(42, message.Arguments[0]);
    }

    [Fact]
    public void TryParseMessage_StreamInvocation_SpecBytes()
    {
        var binder = new TestInvocationBinder().Method("method", typeof(long));

        var message = Assert.IsType<StreamInvocationMessage>(Parse(Frame(Bytes(0x96, 0x04, 0x80), Xyz, Method, Bytes(0x91, 0x2a, 0x90)), binder));

        Assert.Equal("xyz", message.InvocationId);
        Assert.Equal(42L, message.Arguments[0]);
    }

    [Fact]
    public void TryParseMessage_StreamInvocationWithoutId_Throws()
    {
        var binder = new TestInvocationBinder().Method("method", typeof(int));
        var input = new ReadOnlySequence<byte>(Frame(Bytes(0x96, 0x04, 0x80, 0xc0), Method, Bytes(0x91, 0x2a, 0x90)));

        Assert.Throws<MessagePackFormatException>(() => _protocol.TryParseMessage(ref input, binder, out _));
    }

    [Fact]
    public void TryParseMessage_StreamItem_SpecBytes()
    {
        var message = Assert.IsType<StreamItemMessage>(Parse(Frame(Bytes(0x94, 0x02, 0x80), Xyz, Bytes(0x2a)), new TestInvocationBinder().Streams("xyz", typeof(int))));

        Assert.Equal("xyz", message.InvocationId);
        Assert.Equal(42, message.Item);
    }

    [Fact]
    public void TryParseMessage_CompletionWithError_SpecBytes()
    {
        var message = Assert.IsType<CompletionMessage>(Parse(Frame(Bytes(0x95, 0x03, 0x80), Xyz, Bytes(0x01, 0xa5, 0x45, 0x72, 0x72, 0x6f, 0x72))));

        Assert.Equal("xyz", message.InvocationId);
        Assert.Equal("Error", message.Error);
        Assert.False(message.HasResult);
    }

    [Fact]
    public void TryParseMessage_VoidCompletion_SpecBytes()
    {
        var message = Assert.IsType<CompletionMessage>(Parse(Frame(Bytes(0x94, 0x03, 0x80), Xyz, Bytes(0x02))));

        Assert.Null(message.Error);
        Assert.False(message.HasResult);
        Assert.Null(message.Result);
    }

    [Fact]
    public void TryParseMessage_CompletionWithResult_SpecBytes()
    {
        var message = Assert.IsType<CompletionMessage>(Parse(Frame(Bytes(0x95, 0x03, 0x80), Xyz, Bytes(0x03, 0x2a)), new TestInvocationBinder().Returns("xyz", typeof(int))));

        Assert.True(message.HasResult);
        Assert.Equal(42, message.Result);
    }

    [Fact]
    public void TryParseMessage_CompletionForUnknownInvocation_ResultSkipped()
    {
        var message = Assert.IsType<CompletionMessage>(Parse(Frame(Bytes(0x95, 0x03, 0x80), Xyz, Bytes(0x03, 0x92, 0x01, 0x02))));

        Assert.True(message.HasResult);
        Assert.Null(message.Result);
    }

    [Fact]
    public void TryParseMessage_CompletionResultOfWrongType_CompletionCarriesBindingError()
    {
        var binder = new TestInvocationBinder().Returns("xyz", typeof(int));

        var message = Assert.IsType<CompletionMessage>(Parse(Frame(Bytes(0x95, 0x03, 0x80), Xyz, Bytes(0x03), StringArg), binder));

        Assert.False(message.HasResult);
        Assert.StartsWith("Error trying to deserialize result to Int32.", message.Error);
    }

    [Fact]
    public void TryParseMessage_CompletionWithInvalidResultKind_Throws()
    {
        var input = new ReadOnlySequence<byte>(Frame(Bytes(0x95, 0x03, 0x80), Xyz, Bytes(0x04, 0x2a)));
        Assert.Throws<MessagePackFormatException>(() => _protocol.TryParseMessage(ref input, new TestInvocationBinder(), out _));
    }

    [Fact]
    public void TryParseMessage_ErrorCompletionWithoutError_Throws()
    {
        var input = new ReadOnlySequence<byte>(Frame(Bytes(0x94, 0x03, 0x80), Xyz, Bytes(0x01)));
        Assert.Throws<MessagePackFormatException>(() => _protocol.TryParseMessage(ref input, new TestInvocationBinder(), out _));
    }

    [Fact]
    public void TryParseMessage_CancelInvocation_SpecBytes()
    {
        var message = Assert.IsType<CancelInvocationMessage>(Parse(Frame(Bytes(0x93, 0x05, 0x80), Xyz)));
        Assert.Equal("xyz", message.InvocationId);
    }

    [Fact]
    public void TryParseMessage_Close_SpecBytes()
    {
        var message = Assert.IsType<CloseMessage>(Parse(Frame(Bytes(0x92, 0x07), Xyz)));

        Assert.Equal("xyz", message.Error);
        Assert.False(message.AllowReconnect);
    }

    [Fact]
    public void TryParseMessage_CloseAllowingReconnect_SpecBytes()
    {
        var message = Assert.IsType<CloseMessage>(Parse(Frame(Bytes(0x93, 0x07), Xyz, Bytes(0xc3))));

        Assert.Equal("xyz", message.Error);
        Assert.True(message.AllowReconnect);
    }

    [Fact]
    public void TryParseMessage_CloseWithNilError_Empty()
    {
        Assert.Same(CloseMessage.Empty, Parse(Bytes(0x03, 0x92, 0x07, 0xc0)));
    }

    [Fact]
    public void TryParseMessage_Ack_SpecBytes()
    {
        Assert.Equal(36, Assert.IsType<AckMessage>(Parse(Bytes(0x04, 0x92, 0x08, 0xcc, 0x24))).SequenceId);
    }

    [Fact]
    public void TryParseMessage_Sequence_SpecBytes()
    {
        Assert.Equal(19, Assert.IsType<SequenceMessage>(Parse(Bytes(0x04, 0x92, 0x09, 0xcc, 0x13))).SequenceId);
    }

    [Fact]
    public void TryParseMessage_ExtraTrailingItems_IgnoredForForwardCompatibility()
    {
        Assert.Same(PingMessage.Instance, Parse(Bytes(0x04, 0x92, 0x06, 0xa1, 0x61)));
    }

    [Fact]
    public void TryParseMessage_BytesAfterMessageArray_Throws()
    {
        var input = new ReadOnlySequence<byte>(Bytes(0x03, 0x91, 0x06, 0xc0));
        Assert.Throws<MessagePackFormatException>(() => _protocol.TryParseMessage(ref input, new TestInvocationBinder(), out _));
    }

    [Fact]
    public void TryParseMessage_UnknownMessageType_SkippedAndNextFrameReturned()
    {
        var input = new ReadOnlySequence<byte>(Concat(Bytes(0x03, 0x92, 0x63, 0xc0), Bytes(0x02, 0x91, 0x06)));

        Assert.True(_protocol.TryParseMessage(ref input, new TestInvocationBinder(), out var message));

        Assert.Same(PingMessage.Instance, message);
        Assert.Equal(0, input.Length);
    }

    [Fact]
    public void TryParseMessage_OnlyUnknownMessageType_FalseAndFrameConsumed()
    {
        var input = new ReadOnlySequence<byte>(Bytes(0x03, 0x92, 0x63, 0xc0));

        Assert.False(_protocol.TryParseMessage(ref input, new TestInvocationBinder(), out var message));

        Assert.Null(message);
        Assert.Equal(0, input.Length);
    }

    // ------------------------------------------------------------- round trips

    public static TheoryData<HubMessage> RoundTripMessages => new()
    {
        new InvocationMessage("1", "Echo", ["hi"]),
        new StreamInvocationMessage("2", "Echo", ["there"], ["s1"]),
        new StreamItemMessage("s1", "item"),
        CompletionMessage.WithResult("3", "done"),
        CompletionMessage.WithError("4", "boom"),
        CompletionMessage.Empty("5"),
        new CancelInvocationMessage("6"),
        new CloseMessage("bye", allowReconnect: true),
        new AckMessage(long.MaxValue),
        new SequenceMessage(1),
    };

    [Theory]
    [MemberData(nameof(RoundTripMessages))]
    public void WriteThenParse_EveryMessageType_SameContent(HubMessage original)
    {
        var binder = new TestInvocationBinder().Method("Echo", typeof(string)).Streams("s1", typeof(string)).Returns("3", typeof(string));

        var parsed = Parse(WriteFrame(original), binder);

        Assert.Equal(original.GetType(), parsed.GetType());
        Assert.Equal(JsonSerializer.Serialize(original, original.GetType()), JsonSerializer.Serialize(parsed, parsed.GetType()));
    }

    // ------------------------------------------------------------- framing

    [Fact]
    public void TryParseMessage_EveryIncompletePrefix_FalseAndInputUntouched()
    {
        var binder = new TestInvocationBinder().Method("method", typeof(int), typeof(string));
        var frame = Frame(Bytes(0x96, 0x01, 0x80), Xyz, Method, Bytes(0x92, 0x2a), StringArg, Bytes(0x90));

        for (var length = 0; length < frame.Length; length++)
        {
            var input = new ReadOnlySequence<byte>(frame, 0, length);
            var before = input;

            Assert.False(_protocol.TryParseMessage(ref input, binder, out var message));

            Assert.Null(message);
            Assert.Equal(before.Length, input.Length);
            Assert.Equal(before.Start, input.Start);
        }
    }

    [Fact]
    public void TryParseMessage_OneByteSegments_Parsed()
    {
        var binder = new TestInvocationBinder().Method("method", typeof(int), typeof(string));
        var frame = Frame(Bytes(0x96, 0x01, 0x80), Xyz, Method, Bytes(0x92, 0x2a), StringArg, Bytes(0x90));
        var input = Segmented(Concat(frame, frame), 1);

        Assert.True(_protocol.TryParseMessage(ref input, binder, out var first));
        Assert.True(_protocol.TryParseMessage(ref input, binder, out var second));
        Assert.False(_protocol.TryParseMessage(ref input, binder, out _));

        Assert.Equal("string", Assert.IsType<InvocationMessage>(first).Arguments[1]);
        Assert.Equal("string", Assert.IsType<InvocationMessage>(second).Arguments[1]);
    }

    [Fact]
    public void TryParseMessage_VarIntClaiming2GiB_ThrowsBeforeBodyArrives()
    {
        var input = new ReadOnlySequence<byte>(Bytes(0xff, 0xff, 0xff, 0xff, 0x07, 0x91));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<MessagePackFormatException>(() => _protocol.TryParseMessage(ref input, new TestInvocationBinder(), out _));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("limit", ex.Message);
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void TryParseMessage_IncompleteVarIntAlreadyAboveLimit_Throws()
    {
        // Three continuation bytes: the value is at least 2^21 (2 MiB), above the 1.06 MiB default.
        var input = new ReadOnlySequence<byte>(Bytes(0xff, 0xff, 0xff));
        Assert.Throws<MessagePackFormatException>(() => _protocol.TryParseMessage(ref input, new TestInvocationBinder(), out _));
    }

    [Fact]
    public void TryParseMessage_2GiBClaimWithinRaisedLimit_FalseWithoutAllocating()
    {
        var protocol = new MessagePackHubProtocol(new MessagePackHubProtocolOptions { MaximumMessageSize = int.MaxValue });
        var input = new ReadOnlySequence<byte>(Bytes(0xff, 0xff, 0xff, 0xff, 0x07, 0x91, 0x06));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var parsed = protocol.TryParseMessage(ref input, new TestInvocationBinder(), out _);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.False(parsed);
        Assert.Equal(7, input.Length);
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes");
    }

    [Theory]
    [InlineData(new byte[] { 0xff, 0xff, 0xff, 0xff, 0x0f })]       // 2^32 - 1: above the 2 GiB maximum
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 })] // six bytes
    public void TryParseMessage_VarIntBeyondProtocolMaximum_Throws(byte[] prefix)
    {
        var protocol = new MessagePackHubProtocol(new MessagePackHubProtocolOptions { MaximumMessageSize = int.MaxValue });
        var input = new ReadOnlySequence<byte>(prefix);

        Assert.Throws<MessagePackFormatException>(() => protocol.TryParseMessage(ref input, new TestInvocationBinder(), out _));
    }

    [Fact]
    public void TryParseMessage_FrameAtAndAboveConfiguredLimit_AcceptedThenRejected()
    {
        var protocol = new MessagePackHubProtocol(new MessagePackHubProtocolOptions { MaximumMessageSize = 4 });
        var binder = new TestInvocationBinder();

        var atLimit = new ReadOnlySequence<byte>(Bytes(0x04, 0x92, 0x08, 0xcc, 0x24));
        Assert.True(protocol.TryParseMessage(ref atLimit, binder, out var ack));
        Assert.IsType<AckMessage>(ack);

        var overLimit = new ReadOnlySequence<byte>(Bytes(0x05));
        Assert.Throws<MessagePackFormatException>(() => protocol.TryParseMessage(ref overLimit, binder, out _));
    }

    [Fact]
    public void TryParseMessage_EmptyFrame_Throws()
    {
        var input = new ReadOnlySequence<byte>(Bytes(0x00));
        Assert.Throws<MessagePackFormatException>(() => _protocol.TryParseMessage(ref input, new TestInvocationBinder(), out _));
    }

    [Theory]
    [InlineData(new byte[] { 0x01, 0x06 })]             // not an array
    [InlineData(new byte[] { 0x01, 0x90 })]             // empty array
    [InlineData(new byte[] { 0x03, 0x91, 0xa1, 0x31 })] // message type is a string
    [InlineData(new byte[] { 0x02, 0x91, 0xc1 })]       // unknown format byte
    [InlineData(new byte[] { 0x03, 0x92, 0x01, 0x80 })] // invocation with 2 items
    [InlineData(new byte[] { 0x03, 0x92, 0x05, 0x80 })] // cancel invocation without id
    [InlineData(new byte[] { 0x02, 0x91, 0x07 })]       // close without error item
    [InlineData(new byte[] { 0x03, 0x92, 0x08, 0xa0 })] // ack with a string sequence id
    [InlineData(new byte[] { 0x03, 0x93, 0x05, 0x90 })] // headers not a map (and too short)
    public void TryParseMessage_MalformedMessage_Throws(byte[] frame)
    {
        var input = new ReadOnlySequence<byte>(frame);
        Assert.Throws<MessagePackFormatException>(() => _protocol.TryParseMessage(ref input, new TestInvocationBinder(), out _));
    }

    [Fact]
    public void TryParseMessage_DuplicateHeader_Throws()
    {
        var input = new ReadOnlySequence<byte>(Frame(Bytes(0x93, 0x05, 0x82, 0xa1, 0x78, 0xa1, 0x79, 0xa1, 0x78, 0xa1, 0x7a), Xyz));
        Assert.Throws<MessagePackFormatException>(() => _protocol.TryParseMessage(ref input, new TestInvocationBinder(), out _));
    }

    [Fact]
    public void TryParseMessage_TenThousandNestedArraysInArgument_FormatExceptionQuickly()
    {
        var binder = new TestInvocationBinder().Method("method", typeof(JsonElement));
        var nested = Enumerable.Repeat((byte)0x91, 10_000).Append((byte)0xc0).ToArray();
        var protocol = new MessagePackHubProtocol(new MessagePackHubProtocolOptions { MaximumMessageSize = int.MaxValue });
        var input = new ReadOnlySequence<byte>(Frame(Bytes(0x96, 0x01, 0x80), Xyz, Method, Bytes(0x91), nested, Bytes(0x90)));

        var watch = Stopwatch.StartNew();
        Assert.Throws<MessagePackFormatException>(() => protocol.TryParseMessage(ref input, binder, out _));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
    }

    [Fact]
    public void TryParseMessage_NeverUsedByteInArgument_FormatExceptionNotBindingFailure()
    {
        var binder = new TestInvocationBinder().Method("method", typeof(JsonElement));
        var input = new ReadOnlySequence<byte>(Frame(Bytes(0x96, 0x01, 0x80), Xyz, Method, Bytes(0x91, 0xc1, 0x90)));

        Assert.Throws<MessagePackFormatException>(() => _protocol.TryParseMessage(ref input, binder, out _));
    }

    // ------------------------------------------------------------- binding

    public sealed class SampleTask
    {
        public string TaskId { get; set; } = "";

        public int Priority { get; set; }

        public JsonElement Payload { get; set; }

        public List<string> Tags { get; set; } = [];

        public byte[]? Blob { get; set; }

        public DateTime? Due { get; set; }
    }

    private static byte[] SampleTaskMessagePack(string taskIdKey) => Write((ref MessagePackWriter w) =>
    {
        w.WriteMapHeader(6);
        w.Write(taskIdKey);
        w.Write("t-1");
        w.Write("priority");
        w.Write(3);
        w.Write("payload");
        w.WriteMapHeader(1);
        w.Write("x");
        w.WriteArrayHeader(2);
        w.Write(1);
        w.Write(2.5);
        w.Write("tags");
        w.WriteArrayHeader(1);
        w.Write("gpu");
        w.Write("blob");
        w.WriteBinary([1, 2, 3]);
        w.Write("due");
        w.WriteTimestamp(1_700_000_000, 0);
    });

    [Theory]
    [InlineData("taskId")]
    [InlineData("TASKID")]
    public void TryParseMessage_ObjectArgument_BoundWithCamelCaseCaseInsensitive(string taskIdKey)
    {
        var binder = new TestInvocationBinder().Method("Submit", typeof(SampleTask));
        var frame = Frame(Bytes(0x96, 0x01, 0x80), Xyz, Bytes(0xa6), Encoding.UTF8.GetBytes("Submit"), Bytes(0x91), SampleTaskMessagePack(taskIdKey), Bytes(0x90));

        var message = Assert.IsType<InvocationMessage>(Parse(frame, binder));

        var task = Assert.IsType<SampleTask>(message.Arguments[0]);
        Assert.Equal("t-1", task.TaskId);
        Assert.Equal(3, task.Priority);
        Assert.Equal(JsonValueKind.Object, task.Payload.ValueKind);
        Assert.Equal(2.5, task.Payload.GetProperty("x")[1].GetDouble());
        Assert.Equal(["gpu"], task.Tags);
        Assert.Equal(new byte[] { 1, 2, 3 }, task.Blob);
        Assert.Equal(new DateTime(2023, 11, 14, 22, 13, 20, DateTimeKind.Utc), task.Due);
    }

    [Fact]
    public void WriteMessage_ObjectArgument_CamelCaseMapRoundTrips()
    {
        var task = new SampleTask
        {
            TaskId = "t-9",
            Priority = 7,
            Payload = JsonDocument.Parse("{\"k\":[true,null]}").RootElement,
            Tags = ["a", "b"],
        };

        var frame = WriteFrame(new InvocationMessage("xyz", "Submit", [task]));

        var body = frame.AsSpan(1).ToArray();
        Assert.Contains("taskId", Encoding.UTF8.GetString(body));
        Assert.DoesNotContain("TaskId", Encoding.UTF8.GetString(body));
        var parsed = Assert.IsType<InvocationMessage>(Parse(frame, new TestInvocationBinder().Method("Submit", typeof(SampleTask))));
        var back = Assert.IsType<SampleTask>(parsed.Arguments[0]);
        Assert.Equal("t-9", back.TaskId);
        Assert.Equal(7, back.Priority);
        Assert.Equal("{\"k\":[true,null]}", back.Payload.GetRawText());
        Assert.Equal(["a", "b"], back.Tags);
    }

    [Fact]
    public void WriteMessage_ByteArrayArgument_WrittenAsBin()
    {
        var frame = WriteFrame(new InvocationMessage("xyz", "method", [new byte[] { 1, 2, 3 }, new ReadOnlyMemory<byte>([4])]));

        Assert.Equal(Frame(Bytes(0x96, 0x01, 0x80), Xyz, Method, Bytes(0x92, 0xc4, 0x03, 0x01, 0x02, 0x03, 0xc4, 0x01, 0x04, 0x90)), frame);
        var parsed = Assert.IsType<InvocationMessage>(Parse(frame, new TestInvocationBinder().Method("method", typeof(byte[]), typeof(ReadOnlyMemory<byte>))));
        Assert.Equal(new byte[] { 1, 2, 3 }, parsed.Arguments[0]);
        Assert.Equal(new byte[] { 4 }, ((ReadOnlyMemory<byte>)parsed.Arguments[1]!).ToArray());
    }

    [Fact]
    public void WriteMessage_DateTimeArgument_TimestampExtensionThatBindsBack()
    {
        var instant = new DateTimeOffset(2023, 11, 14, 22, 13, 20, TimeSpan.Zero);

        var frame = WriteFrame(new InvocationMessage("xyz", "method", [instant.UtcDateTime, instant]));

        var timestamp = Bytes(0xd6, 0xff, 0x65, 0x53, 0xf1, 0x00);
        Assert.Equal(Frame(Bytes(0x96, 0x01, 0x80), Xyz, Method, Bytes(0x92), timestamp, timestamp, Bytes(0x90)), frame);
        var parsed = Assert.IsType<InvocationMessage>(Parse(frame, new TestInvocationBinder().Method("method", typeof(DateTime), typeof(DateTimeOffset))));
        Assert.Equal(instant.UtcDateTime, parsed.Arguments[0]);
        Assert.Equal(instant, parsed.Arguments[1]);
    }

    [Fact]
    public void WriteMessage_DoubleWithIntegralValueInsideObject_Int()
    {
        var frame = WriteFrame(new StreamItemMessage("xyz", new { Value = 2.0, Half = 0.5 }));

        // {"value": 2, "half": 0.5}
        Assert.Equal(
            Frame(Bytes(0x94, 0x02, 0x80), Xyz, Bytes(0x82, 0xa5, 0x76, 0x61, 0x6c, 0x75, 0x65, 0x02, 0xa4, 0x68, 0x61, 0x6c, 0x66, 0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0)),
            frame);
    }

    [Fact]
    public void TryParseMessage_ArgumentOfWrongType_InvocationBindingFailure()
    {
        var binder = new TestInvocationBinder().Method("method", typeof(int), typeof(int));

        var message = Parse(Frame(Bytes(0x96, 0x01, 0x80), Xyz, Method, Bytes(0x92, 0x2a), StringArg, Bytes(0x90)), binder);

        var failure = Assert.IsType<InvocationBindingFailureMessage>(message);
        Assert.Equal("xyz", failure.InvocationId);
        Assert.Equal("method", failure.Target);
        Assert.Contains("Error binding argument 2", failure.BindingFailure.SourceException.Message);
    }

    [Fact]
    public void TryParseMessage_WrongArgumentCount_InvocationBindingFailure()
    {
        var binder = new TestInvocationBinder().Method("method", typeof(int), typeof(int));

        var failure = Assert.IsType<InvocationBindingFailureMessage>(Parse(Frame(Bytes(0x96, 0x01, 0x80), Xyz, Method, Bytes(0x91, 0x2a, 0x90)), binder));

        Assert.Contains("provides 1 argument(s) but target expects 2", failure.BindingFailure.SourceException.Message);
    }

    [Fact]
    public void TryParseMessage_UnknownTarget_InvocationBindingFailure()
    {
        var failure = Assert.IsType<InvocationBindingFailureMessage>(Parse(Frame(Bytes(0x96, 0x01, 0x80), Xyz, Method, Bytes(0x91, 0x2a, 0x90))));

        Assert.Equal("method", failure.Target);
        Assert.IsType<InvalidOperationException>(failure.BindingFailure.SourceException);
    }

    [Fact]
    public void TryParseMessage_UnsupportedExtensionInArgument_InvocationBindingFailure()
    {
        var binder = new TestInvocationBinder().Method("method", typeof(JsonElement));

        var message = Parse(Frame(Bytes(0x96, 0x01, 0x80), Xyz, Method, Bytes(0x91, 0xd4, 0x05, 0x00, 0x90)), binder);

        Assert.IsType<InvocationBindingFailureMessage>(message);
    }

    [Fact]
    public void TryParseMessage_StreamItemOfWrongType_StreamBindingFailure()
    {
        var binder = new TestInvocationBinder().Streams("xyz", typeof(int));

        var failure = Assert.IsType<StreamBindingFailureMessage>(Parse(Frame(Bytes(0x94, 0x02, 0x80), Xyz, StringArg), binder));

        Assert.Equal("xyz", failure.Id);
    }

    [Fact]
    public void TryParseMessage_StreamItemForUnknownStream_StreamBindingFailure()
    {
        Assert.IsType<StreamBindingFailureMessage>(Parse(Frame(Bytes(0x94, 0x02, 0x80), Xyz, Bytes(0x2a))));
    }

    [Fact]
    public void TryParseMessage_RawResultReturnType_KeepsMessagePackBytes()
    {
        var binder = new TestInvocationBinder().Returns("xyz", typeof(RawResult));

        var message = Assert.IsType<CompletionMessage>(Parse(Frame(Bytes(0x95, 0x03, 0x80), Xyz, Bytes(0x03, 0x92, 0x01, 0xa1, 0x61)), binder));

        var raw = Assert.IsType<RawResult>(message.Result);
        Assert.Equal(Bytes(0x92, 0x01, 0xa1, 0x61), raw.RawSerializedData.ToArray());
        Assert.Equal(Frame(Bytes(0x95, 0x03, 0x80), Xyz, Bytes(0x03, 0x92, 0x01, 0xa1, 0x61)), WriteFrame(message));
    }
}
