using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Protocol;
using Aicp.Protocol.MessagePack;
using Microsoft.AspNetCore.SignalR.Protocol;
using static Aicp.Tests.Protocol.MessagePack.MessagePackTestHelpers;

namespace Aicp.Tests.Protocol.MessagePack;

/// <summary>Task payloads and results kept as raw MessagePack by the protocol: bound aside, written back verbatim.</summary>
public class RawPayloadProtocolTests
{
    private readonly MessagePackHubProtocol _protocol = new();

    private static byte[] Frame(params byte[][] parts)
    {
        var body = Concat(parts);
        var prefix = new byte[5];
        var n = 0;
        var length = (uint)body.Length;
        do
        {
            var b = (byte)(length & 0x7f);
            length >>= 7;
            prefix[n++] = length > 0 ? (byte)(b | 0x80) : b;
        }
        while (length > 0);

        return Concat(prefix[..n], body);
    }

    // {"image": bin8 [1,2,3], "n": 1}
    private static readonly byte[] PayloadMap = Concat(Bytes(0x82), Str("image"), Bytes(0xc4, 0x03, 0x01, 0x02, 0x03), Str("n"), Bytes(0x01));

    private HubMessage Parse(byte[] frame, TestInvocationBinder binder)
    {
        var input = new ReadOnlySequence<byte>(frame);
        Assert.True(_protocol.TryParseMessage(ref input, binder, out var message));
        Assert.Equal(0, input.Length);
        return message!;
    }

    private static byte[] SubmitFrame(byte[] requestMap) =>
        Frame(Bytes(0x96, 0x01, 0x80), Str("1"), Str("Submit"), Bytes(0x91), requestMap, Bytes(0x90));

    private byte[] Write(HubMessage message)
    {
        var output = new ArrayBufferWriter<byte>();
        _protocol.WriteMessage(message, output);
        return output.WrittenSpan.ToArray();
    }

    [Fact]
    public void Bind_TaskRequest_KeepsPayloadBytesAside_AndBuildsJsonViewOnDemand()
    {
        var request = Concat(Bytes(0x82), Str("method"), Str("image.label"), Str("payload"), PayloadMap);
        var binder = new TestInvocationBinder().Method("Submit", typeof(TaskRequest));

        var message = Assert.IsType<InvocationMessage>(Parse(SubmitFrame(request), binder));
        var bound = Assert.IsType<TaskRequest>(message.Arguments[0]);

        Assert.Equal("image.label", bound.Method);
        Assert.Equal(PayloadMap, bound.PayloadMessagePack!.Value.ToArray());
        Assert.True(MessagePackPayload.TryGetBinary(bound.PayloadMessagePack.Value, "image", out var image));
        Assert.Equal(Bytes(1, 2, 3), image.ToArray());

        // The JSON view: bin as base64, as the JSON protocol would carry it.
        Assert.Equal("AQID", bound.Payload.GetProperty("image").GetString());
        Assert.Equal(1, bound.Payload.GetProperty("n").GetInt32());
    }

    [Fact]
    public void Bind_KeyMatchesCaseInsensitively_NilIsNotKept()
    {
        var binder = new TestInvocationBinder().Method("Submit", typeof(TaskRequest));
        var upper = Assert.IsType<TaskRequest>(Assert.IsType<InvocationMessage>(
            Parse(SubmitFrame(Concat(Bytes(0x81), Str("Payload"), PayloadMap)), binder)).Arguments[0]);
        Assert.Equal(PayloadMap, upper.PayloadMessagePack!.Value.ToArray());

        var nil = Assert.IsType<TaskRequest>(Assert.IsType<InvocationMessage>(
            Parse(SubmitFrame(Concat(Bytes(0x82), Str("method"), Str("m"), Str("payload"), Bytes(0xc0))), binder)).Arguments[0]);
        Assert.Null(nil.PayloadMessagePack);
        Assert.Equal(JsonValueKind.Null, nil.Payload.ValueKind);
    }

    [Fact]
    public void Bind_PayloadChecksStayTheSame_InvalidUtf8ClosesUnsupportedExtensionFailsBinding()
    {
        var binder = new TestInvocationBinder().Method("Submit", typeof(TaskRequest));
        var badUtf8 = Concat(Bytes(0x81), Str("payload"), Bytes(0x81), Str("s"), Bytes(0xa2, 0xc3, 0x28));
        Assert.Throws<MessagePackFormatException>(() => Parse(SubmitFrame(badUtf8), binder));

        var extension = Concat(Bytes(0x81), Str("payload"), Bytes(0xd4, 0x05, 0x00));
        var failure = Assert.IsType<InvocationBindingFailureMessage>(Parse(SubmitFrame(extension), binder));
        Assert.Equal("1", failure.InvocationId);
    }

    [Fact]
    public void Write_TaskAssignmentWithRawPayload_CopiesTheBytesVerbatim()
    {
        var assignment = new TaskAssignment { TaskId = "t1", Attempt = 1, Method = "m", PayloadMessagePack = PayloadMap, TimeoutMs = 1000 };

        var frame = Write(new InvocationMessage("Execute", [assignment]));

        var expectedArgument = Concat(
            Bytes(0x85),
            Str("taskId"), Str("t1"),
            Str("attempt"), Bytes(0x01),
            Str("method"), Str("m"),
            Str("payload"), PayloadMap,
            Str("timeoutMs"), Bytes(0xcd, 0x03, 0xe8));
        Assert.Equal(Frame(Bytes(0x96, 0x01, 0x80, 0xc0), Str("Execute"), Bytes(0x91), expectedArgument, Bytes(0x90)), frame);
    }

    [Fact]
    public void RoundTrip_CompletionResult_StaysBinAndReachesTaskResultUnchanged()
    {
        var result = Concat(Bytes(0x81), Str("mask"), Bytes(0xc5, 0x01, 0x00), new byte[256]);
        var completion = Concat(Bytes(0x84), Str("taskId"), Str("t1"), Str("attempt"), Bytes(0x01), Str("ok"), Bytes(0xc3), Str("result"), result);
        var binder = new TestInvocationBinder().Method("Complete", typeof(TaskCompletion));

        var bound = Assert.IsType<TaskCompletion>(Assert.IsType<InvocationMessage>(
            Parse(Frame(Bytes(0x96, 0x01, 0x80, 0xc0), Str("Complete"), Bytes(0x91), completion, Bytes(0x90)), binder)).Arguments[0]);
        Assert.Equal(result, bound.ResultMessagePack!.Value.ToArray());

        // The hub hands the bytes to the submitter's TaskResult; the client binds them aside again.
        var taskResult = new TaskResult { TaskId = "t1", Status = TaskStatuses.Completed, ResultMessagePack = bound.ResultMessagePack };
        var written = Write(CompletionMessage.WithResult("9", taskResult));
        Assert.True(written.AsSpan().IndexOf(result) > 0);

        var back = Assert.IsType<CompletionMessage>(Parse(written, new TestInvocationBinder().Returns("9", typeof(TaskResult))));
        var parsed = Assert.IsType<TaskResult>(back.Result);
        Assert.Equal(result, parsed.ResultMessagePack!.Value.ToArray());
        Assert.Equal(TaskStatuses.Completed, parsed.Status);
        Assert.Equal(256, parsed.Result!.Value.GetProperty("mask").GetBytesFromBase64().Length);
    }

    [Fact]
    public void JsonSerialization_OfRawCarrier_UsesTheTranscodedView()
    {
        var assignment = new TaskAssignment { TaskId = "t1", Attempt = 1, Method = "m", PayloadMessagePack = PayloadMap, TimeoutMs = 5 };

        var json = JsonSerializer.Serialize(assignment, AgentJson.Options);

        Assert.Equal("""{"taskId":"t1","attempt":1,"method":"m","payload":{"image":"AQID","n":1},"timeoutMs":5}""", json);
    }

    [Fact]
    public void Write_ContractWithoutRawBytes_IsUnchanged()
    {
        var payload = JsonSerializer.SerializeToElement(new { n = 1 });
        var frame = Write(new InvocationMessage("Execute", [new TaskAssignment { TaskId = "t", Method = "m", Payload = payload }]));
        var expectedArgument = Concat(
            Bytes(0x85), Str("taskId"), Str("t"), Str("attempt"), Bytes(0x00), Str("method"), Str("m"),
            Str("payload"), Bytes(0x81), Str("n"), Bytes(0x01), Str("timeoutMs"), Bytes(0x00));
        Assert.Equal(Frame(Bytes(0x96, 0x01, 0x80, 0xc0), Str("Execute"), Bytes(0x91), expectedArgument, Bytes(0x90)), frame);
    }

    [Fact]
    public void Serialize_TopLevelByteBuffersAsBin_TryGetBinarySlicesWithoutCopy()
    {
        var data = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        var raw = MessagePackPayload.Serialize(new { Image = data, Name = "cat", Tags = new[] { "a" }, Missing = (string?)null }, AgentJson.Options);

        var expected = Concat(Bytes(0x83), Str("image"), Bytes(0xc5, 0x01, 0x2c), data, Str("name"), Str("cat"), Str("tags"), Bytes(0x91), Str("a"));
        Assert.Equal(expected, raw);

        var memory = new ReadOnlyMemory<byte>(raw);
        Assert.True(MessagePackPayload.TryGetBinary(memory, "IMAGE", out var image));
        Assert.Equal(data, image.ToArray());
        Assert.True(MemoryMarshal.TryGetArray(image, out var segment));
        Assert.Same(raw, segment.Array);
        Assert.False(MessagePackPayload.TryGetBinary(memory, "name", out _));
        Assert.False(MessagePackPayload.TryGetBinary(memory, "absent", out _));

        Assert.Equal(Concat(Bytes(0xc4, 0x02, 0x07, 0x08)), MessagePackPayload.Serialize(new byte[] { 7, 8 }, AgentJson.Options));
        Assert.True(MessagePackPayload.TryGetBinary(Bytes(0xc4, 0x02, 0x07, 0x08), null, out var whole));
        Assert.Equal(Bytes(7, 8), whole.ToArray());

        var dictionary = MessagePackPayload.Serialize(new Dictionary<string, object?> { ["blob"] = new byte[] { 9 }, ["k"] = 2 }, AgentJson.Options);
        Assert.Equal(Concat(Bytes(0x82), Str("blob"), Bytes(0xc4, 0x01, 0x09), Str("k"), Bytes(0x02)), dictionary);

        // Without byte buffers: the JSON form, converted.
        Assert.Equal(Concat(Bytes(0x81), Str("x"), Bytes(0x01)), MessagePackPayload.Serialize(new { X = 1 }, AgentJson.Options));
    }

    [Fact]
    public void TryGetBinaryAndInt64_PropertyAfterNonStringValues_Found()
    {
        // {"k": 2, "tags": ["a"], "topK": 5, "image": bin[3]}: the values before the one sought are not strings.
        var raw = Concat(Bytes(0x84), Str("k"), Bytes(0x02), Str("tags"), Bytes(0x91), Str("a"), Str("topK"), Bytes(0x05),
            Str("image"), Bytes(0xc4, 0x03, 1, 2, 3));

        Assert.True(MessagePackPayload.TryGetBinary(raw, "image", out var image));
        Assert.Equal(Bytes(1, 2, 3), image.ToArray());
        Assert.True(MessagePackPayload.TryGetInt64(raw, "TOPK", out var topK));
        Assert.Equal(5, topK);
        Assert.False(MessagePackPayload.TryGetInt64(raw, "tags", out _));
        Assert.False(MessagePackPayload.TryGetInt64(raw, "absent", out _));
        Assert.False(MessagePackPayload.TryGetBinary(Bytes(0x84, 0xa1), "image", out _)); // truncated: false, not an exception
    }

    [Fact]
    public async Task WriteMessage_LargeFrame_GoesIntoAPipeAsOneSegment()
    {
        // A pipe hands out 4 KiB blocks unless asked for more; asking once for the whole frame keeps it in one
        // block, which a WebSocket transport then sends as one frame.
        var payload = MessagePackPayload.Serialize(new { image = new byte[64 * 1024] }, AgentJson.Options);
        var pipe = new System.IO.Pipelines.Pipe(new System.IO.Pipelines.PipeOptions(pauseWriterThreshold: 0));
        var assignment = new TaskAssignment { TaskId = "t", Attempt = 1, Method = "image.label", PayloadMessagePack = payload, TimeoutMs = 1000 };

        _protocol.WriteMessage(new InvocationMessage("Execute", [assignment]), pipe.Writer);
        await pipe.Writer.FlushAsync();
        var read = await pipe.Reader.ReadAsync();

        Assert.True(read.Buffer.IsSingleSegment);
        Assert.True(read.Buffer.Length > payload.Length);
        var input = read.Buffer;
        Assert.True(_protocol.TryParseMessage(ref input, new TestInvocationBinder().Method("Execute", typeof(TaskAssignment)), out var parsed));
        var bound = Assert.IsType<TaskAssignment>(Assert.IsType<InvocationMessage>(parsed).Arguments[0]);
        Assert.Equal(payload, bound.PayloadMessagePack!.Value.ToArray());
        pipe.Reader.AdvanceTo(read.Buffer.End);
    }
}
