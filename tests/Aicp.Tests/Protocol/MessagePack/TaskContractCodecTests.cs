using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aicp.Protocol;
using Aicp.Protocol.MessagePack;
using Microsoft.AspNetCore.SignalR.Protocol;
using static Aicp.Tests.Protocol.MessagePack.MessagePackTestHelpers;

namespace Aicp.Tests.Protocol.MessagePack;

/// <summary>
/// The task contracts read and written directly in MessagePack give the same bytes and the same bound values as
/// the System.Text.Json route they replace, and bad values are binding failures, not closed connections.
/// </summary>
public class TaskContractCodecTests
{
    /// <summary>camelCase, but not the built-in policy instance: the protocol keeps the JSON route for it.</summary>
    private sealed class CamelCaseByHand : JsonNamingPolicy
    {
        public override string ConvertName(string name) => CamelCase.ConvertName(name);
    }

    private static MessagePackHubProtocol Direct(JsonIgnoreCondition ignore) =>
        new(new MessagePackHubProtocolOptions { PayloadSerializerOptions = Options(ignore, JsonNamingPolicy.CamelCase) });

    private static MessagePackHubProtocol ThroughJson(JsonIgnoreCondition ignore) =>
        new(new MessagePackHubProtocolOptions { PayloadSerializerOptions = Options(ignore, new CamelCaseByHand()) });

    private static JsonSerializerOptions Options(JsonIgnoreCondition ignore, JsonNamingPolicy naming)
    {
        var options = MessagePackHubProtocolDefaults.CreatePayloadSerializerOptions();
        options.DefaultIgnoreCondition = ignore;
        options.PropertyNamingPolicy = naming;
        return options;
    }

    private static JsonElement Json(string text) => JsonSerializer.Deserialize<JsonElement>(text);

    private static ReadOnlyMemory<byte> Pack(object value) => MessagePackPayload.Serialize(value, new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static TheoryData<string> Samples() => new(SampleContracts.Keys);

    private static readonly Dictionary<string, object> SampleContracts = new()
    {
        ["request, raw payload with bin"] = new TaskRequest
        {
            Method = "image.label", PayloadMessagePack = Pack(new { image = new byte[] { 1, 2, 3 }, topK = 3 }), TimeoutMs = 5000,
        },
        ["request, JSON payload, every field"] = new TaskRequest
        {
            Method = "text.embed", Payload = Json("""{"a":[1,2.5,"x",true,null],"b":{"c":-7}}"""), Strategy = "least-loaded", TimeoutMs = 250, MaxAttempts = 2,
        },
        ["assignment, raw payload"] = new TaskAssignment
        {
            TaskId = "t-000042", Attempt = 2, Method = "image.label", PayloadMessagePack = Pack(new { image = new byte[300] }), TimeoutMs = 30_000,
        },
        ["assignment, JSON payload with non-ASCII text"] = new TaskAssignment
        {
            TaskId = "t-ü", Attempt = 1, Method = "text.echo", Payload = Json("""{"s":"grüße 😀","n":12345678901}"""), TimeoutMs = 1,
        },
        ["completion, raw result"] = new TaskCompletion { TaskId = "t1", Attempt = 1, Ok = true, ResultMessagePack = Pack(new[] { 7, 1 }) },
        ["completion, error and no result"] = new TaskCompletion { TaskId = "t2", Attempt = 3, Ok = false, Error = TaskError.Of("model_failed", "CUDA out of memory") },
        ["completion, JSON result"] = new TaskCompletion { TaskId = "t3", Attempt = 1, Ok = true, Result = Json("""[{"label":"7","p":0.93}]""") },
        ["result, raw result and a route"] = new TaskResult
        {
            TaskId = "t4", Status = "completed", ResultMessagePack = Pack(new { label = 7 }), AgentId = "gpu-b", Attempts = 2, Strategy = "adaptive",
            LatencyMs = 12.345678,
            Route =
            [
                new RouteEntry
                {
                    AgentId = "gpu-a", Outcome = "timeout", Ms = 250.0, Strategy = "adaptive", Candidates = 3, Pending = 1, LatencyEstimateMs = 30,
                    Trust = 0.5, Circuit = "closed", SuccessRate = 1.0, SlowStart = 0.25, Error = TaskError.Of("timeout", "no answer in 250 ms"),
                },
                new RouteEntry
                {
                    AgentId = "gpu-b", Outcome = "completed", Ms = 1e14, Strategy = "adaptive", Candidates = 2, Pending = 0, LatencyEstimateMs = 1e15,
                    Trust = 0.987654321, Circuit = "half-open",
                },
            ],
        },
        ["result, JSON result, no agent, empty route"] = new TaskResult
        {
            TaskId = "t5", Status = "no_agents", Result = Json("""{"x":-0.5}"""), Error = TaskError.Of("no_agents", "none"), Attempts = 0, Strategy = "round-robin",
            LatencyMs = -0.0, Route = [],
        },
        ["result, awkward doubles"] = new TaskResult
        {
            TaskId = "t6", Status = "completed", Attempts = 1, Strategy = "random", LatencyMs = 99_999_999_999_999_980,
            Route = [new RouteEntry { AgentId = "a", Outcome = "completed", Ms = 123456789012345678, LatencyEstimateMs = 1e-7, Pending = -3, Candidates = int.MaxValue, Trust = double.Epsilon, SuccessRate = 0 }],
        },
    };

    private static byte[] WriteInvocation(IHubProtocol protocol, object argument)
    {
        var output = new ArrayBufferWriter<byte>();
        protocol.WriteMessage(new InvocationMessage("1", "Target", [argument]), output);
        return output.WrittenSpan.ToArray();
    }

    private static object Bind(IHubProtocol protocol, byte[] frame, Type type)
    {
        var input = new ReadOnlySequence<byte>(frame);
        Assert.True(protocol.TryParseMessage(ref input, new TestInvocationBinder().Method("Target", type), out var message));
        var invocation = Assert.IsType<InvocationMessage>(message);
        return invocation.Arguments[0]!;
    }

    /// <summary>Every field, with the payload/result as its JSON view and its raw bytes (when it has them).</summary>
    private static string Describe(object contract)
    {
        var json = JsonSerializer.Serialize(contract, contract.GetType(), new JsonSerializerOptions(JsonSerializerDefaults.Web));
        var raw = contract switch
        {
            TaskRequest r => r.PayloadMessagePack,
            TaskAssignment a => a.PayloadMessagePack,
            TaskCompletion c => c.ResultMessagePack,
            TaskResult r => r.ResultMessagePack,
            _ => null,
        };
        return json + " raw=" + (raw is { } bytes ? Convert.ToHexString(bytes.Span) : "none");
    }

    [Fact]
    public void DefaultOptions_UseTheDirectCodec_CustomisedOnesKeepTheJsonRoute()
    {
        Assert.True(TaskContractCodec.Supports(MessagePackHubProtocolDefaults.CreatePayloadSerializerOptions()));
        Assert.True(TaskContractCodec.Supports(Options(JsonIgnoreCondition.WhenWritingNull, JsonNamingPolicy.CamelCase)));
        Assert.False(TaskContractCodec.Supports(Options(JsonIgnoreCondition.Never, new CamelCaseByHand())));
        Assert.False(TaskContractCodec.Supports(Options(JsonIgnoreCondition.WhenWritingDefault, JsonNamingPolicy.CamelCase)));

        var withConverter = MessagePackHubProtocolDefaults.CreatePayloadSerializerOptions();
        withConverter.Converters.Add(new JsonStringEnumConverter());
        Assert.False(TaskContractCodec.Supports(withConverter));

        var lenientNumbers = MessagePackHubProtocolDefaults.CreatePayloadSerializerOptions();
        lenientNumbers.NumberHandling = JsonNumberHandling.AllowReadingFromString;
        Assert.False(TaskContractCodec.Supports(lenientNumbers));

        var references = MessagePackHubProtocolDefaults.CreatePayloadSerializerOptions();
        references.ReferenceHandler = ReferenceHandler.Preserve;
        Assert.False(TaskContractCodec.Supports(references));

        var ignoreNulls = MessagePackHubProtocolDefaults.CreatePayloadSerializerOptions();
#pragma warning disable SYSLIB0020 // the obsolete switch is still honoured by System.Text.Json
        ignoreNulls.IgnoreNullValues = true;
#pragma warning restore SYSLIB0020
        Assert.False(TaskContractCodec.Supports(ignoreNulls));

        var noDuplicates = MessagePackHubProtocolDefaults.CreatePayloadSerializerOptions();
        noDuplicates.AllowDuplicateProperties = false;
        Assert.False(TaskContractCodec.Supports(noDuplicates));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Write_GivesTheSameBytesAsTheJsonRoute(string sample)
    {
        var contract = SampleContracts[sample];
        foreach (var ignore in new[] { JsonIgnoreCondition.Never, JsonIgnoreCondition.WhenWritingNull })
        {
            var expected = WriteInvocation(ThroughJson(ignore), contract);
            var actual = WriteInvocation(Direct(ignore), contract);
            Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(actual));
        }
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Read_BindsTheSameValuesAsTheJsonRoute(string sample)
    {
        var contract = SampleContracts[sample];
        foreach (var ignore in new[] { JsonIgnoreCondition.Never, JsonIgnoreCondition.WhenWritingNull })
        {
            var frame = WriteInvocation(ThroughJson(ignore), contract);
            var expected = Bind(ThroughJson(ignore), frame, contract.GetType());
            var actual = Bind(Direct(ignore), frame, contract.GetType());
            Assert.IsType(contract.GetType(), actual);
            Assert.Equal(Describe(expected), Describe(actual));
        }
    }

    /// <summary>What binding gives: the bound values, a binding failure, or the exception that closes the connection.</summary>
    private static string Outcome(IHubProtocol protocol, byte[] frame, Type type)
    {
        try
        {
            var input = new ReadOnlySequence<byte>(frame);
            Assert.True(protocol.TryParseMessage(ref input, new TestInvocationBinder().Method("Target", type), out var message));
            return message switch
            {
                InvocationBindingFailureMessage => "binding failure",
                InvocationMessage { Arguments: [var bound] } => Describe(bound!) + (bound is TaskResult { Route: var route } ? " route " + route?.GetType().Name : ""),
                _ => message!.GetType().Name,
            };
        }
        catch (MessagePackFormatException)
        {
            return "format error";
        }
    }

    public static TheoryData<string, string, string> HandMadeMaps() => new()
    {
        // name, argument (hex), contract type
        { "attempt as uint64", "82" + "A6" + Hex("taskId") + "A1" + Hex("t") + "A7" + Hex("attempt") + "CF0000000000000005", nameof(TaskCompletion) },
        { "attempt as uint64 beyond int", "82" + "A6" + Hex("taskId") + "A1" + Hex("t") + "A7" + Hex("attempt") + "CF0000000100000000", nameof(TaskCompletion) },
        { "latencyMs as float32 0.1", "82" + "A6" + Hex("taskId") + "A1" + Hex("t") + "A9" + Hex("latencyMs") + "CA3DCCCCCD", nameof(TaskResult) },
        { "latencyMs NaN", "82" + "A6" + Hex("taskId") + "A1" + Hex("t") + "A9" + Hex("latencyMs") + "CB7FF8000000000000", nameof(TaskResult) },
        { "latencyMs float32 infinity", "82" + "A6" + Hex("taskId") + "A1" + Hex("t") + "A9" + Hex("latencyMs") + "CA7F800000", nameof(TaskResult) },
        { "unknown field, invalid UTF-8", "82" + "A6" + Hex("taskId") + "A1" + Hex("t") + "A1" + Hex("x") + "A1FF", nameof(TaskCompletion) },
        { "unknown field, extension 5", "82" + "A6" + Hex("taskId") + "A1" + Hex("t") + "A1" + Hex("x") + "D40500", nameof(TaskCompletion) },
        { "unknown field, timestamp", "82" + "A6" + Hex("taskId") + "A1" + Hex("t") + "A1" + Hex("x") + "D6FF00000001", nameof(TaskCompletion) },
        { "nil key", "82" + "A6" + Hex("taskId") + "A1" + Hex("t") + "C001", nameof(TaskCompletion) },
        { "boolean key", "82" + "A6" + Hex("taskId") + "A1" + Hex("t") + "C301", nameof(TaskCompletion) },
        { "integer key", "82" + "A6" + Hex("taskId") + "A1" + Hex("t") + "0701", nameof(TaskCompletion) },
        { "invalid UTF-8 key", "82" + "A6" + Hex("taskId") + "A1" + Hex("t") + "A1FF01", nameof(TaskCompletion) },
        { "route with a nil entry", "82" + "A6" + Hex("taskId") + "A1" + Hex("t") + "A5" + Hex("route") + "91C0", nameof(TaskResult) },
        { "route nil", "82" + "A6" + Hex("taskId") + "A1" + Hex("t") + "A5" + Hex("route") + "C0", nameof(TaskResult) },
        { "payload twice, then nil", "83" + "A6" + Hex("method") + "A1" + Hex("m") + "A7" + Hex("payload") + "01" + "A7" + Hex("payload") + "C0", nameof(TaskRequest) },
        { "payload nil, then a value", "83" + "A6" + Hex("method") + "A1" + Hex("m") + "A7" + Hex("payload") + "C0" + "A7" + Hex("payload") + "02", nameof(TaskRequest) },
        { "method nil", "82" + "A6" + Hex("method") + "C0" + "A7" + Hex("payload") + "01", nameof(TaskRequest) },
        { "error with nil code", "83" + "A6" + Hex("taskId") + "A1" + Hex("t") + "A2" + Hex("ok") + "C2" + "A5" + Hex("error") + "82" + "A4" + Hex("code") + "C0" + "A7" + Hex("message") + "A1" + Hex("x"), nameof(TaskCompletion) },
        { "an array, not a map", "92" + "01" + "02", nameof(TaskCompletion) },
    };

    private static string Hex(string ascii) => Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(ascii));

    private static Type ContractType(string name) => typeof(TaskRequest).Assembly.GetType("Aicp.Protocol." + name)!;

    [Theory]
    [MemberData(nameof(HandMadeMaps))]
    public void Read_HandMadeInput_BindsAsTheJsonRouteDoes(string name, string argument, string type)
    {
        var frame = Invocation(Convert.FromHexString(argument));
        foreach (var ignore in new[] { JsonIgnoreCondition.Never, JsonIgnoreCondition.WhenWritingNull })
        {
            var expected = Outcome(ThroughJson(ignore), frame, ContractType(type));
            Assert.Equal((name, expected), (name, Outcome(Direct(ignore), frame, ContractType(type))));
        }
    }

    [Fact]
    public void Read_CaseSensitiveOptions_StillFindThePayloadInAnyCase()
    {
        // {"method":"m","Payload":1} with case-sensitive names: the raw field is found as before, "Method" is not.
        var frame = Invocation(Convert.FromHexString("82" + "A6" + Hex("Method") + "A1" + Hex("m") + "A7" + Hex("Payload") + "01"));
        var direct = Options(JsonIgnoreCondition.Never, JsonNamingPolicy.CamelCase);
        direct.PropertyNameCaseInsensitive = false;
        var throughJson = Options(JsonIgnoreCondition.Never, new CamelCaseByHand());
        throughJson.PropertyNameCaseInsensitive = false;

        var expected = Outcome(new MessagePackHubProtocol(new MessagePackHubProtocolOptions { PayloadSerializerOptions = throughJson }), frame, typeof(TaskRequest));
        var actual = Outcome(new MessagePackHubProtocol(new MessagePackHubProtocolOptions { PayloadSerializerOptions = direct }), frame, typeof(TaskRequest));

        Assert.Equal(expected, actual);
        Assert.Contains("raw=01", actual);
    }

    public static TheoryData<string> OddContracts() => new(OddSamples.Keys);

    private static readonly Dictionary<string, object> OddSamples = new()
    {
        ["null strings everywhere"] = new TaskResult
        {
            TaskId = null!, Status = null!, Strategy = null!, Error = new TaskError { Code = null!, Message = "m" },
            Route = [new RouteEntry { AgentId = null!, Outcome = null!, Error = new TaskError { Code = "c", Message = null! } }],
        },
        ["a null route entry"] = new TaskResult { TaskId = "t", Status = "s", Strategy = "s", Route = [null!] },
        ["null method and task id"] = new TaskAssignment { TaskId = null!, Method = null!, Payload = Json("1") },
        ["request with a null method"] = new TaskRequest { Method = null!, Payload = Json("1") },
        ["completion with a null task id"] = new TaskCompletion { TaskId = null!, Ok = true, Result = Json("[]") },
        ["payload 63 levels deep"] = new TaskRequest { Method = "m", Payload = Deep(63) },
    };

    private static JsonElement Deep(int levels) =>
        JsonDocument.Parse(new string('[', levels) + new string(']', levels), new JsonDocumentOptions { MaxDepth = 200 }).RootElement;

    [Theory]
    [MemberData(nameof(OddContracts))]
    public void Write_OddValues_GiveTheSameBytesAsTheJsonRoute(string sample)
    {
        foreach (var ignore in new[] { JsonIgnoreCondition.Never, JsonIgnoreCondition.WhenWritingNull })
        {
            Assert.Equal(
                Convert.ToHexString(WriteInvocation(ThroughJson(ignore), OddSamples[sample])),
                Convert.ToHexString(WriteInvocation(Direct(ignore), OddSamples[sample])));
        }
    }

    [Fact]
    public void Write_WhatJsonCannotHold_FailsOnBothRoutes()
    {
        var nan = new TaskResult { TaskId = "t", Status = "s", Strategy = "s", LatencyMs = double.NaN };
        var tooDeep = new TaskRequest { Method = "m", Payload = Deep(64) }; // 65 levels with the request around it

        foreach (var value in new object[] { nan, tooDeep })
        {
            Assert.ThrowsAny<Exception>(() => WriteInvocation(ThroughJson(JsonIgnoreCondition.Never), value));
            Assert.ThrowsAny<Exception>(() => WriteInvocation(Direct(JsonIgnoreCondition.Never), value));
        }
    }

    [Fact]
    public void Read_MatchesNamesCaseInsensitively_SkipsUnknownAndNonStringKeys()
    {
        // {"TASKID":"t","Attempt":2,"extra":{"deep":[1]},7:"x","OK":true,"result":bin[9]}
        var map = Concat(
            Bytes(0x86),
            Str("TASKID"), Str("t"),
            Str("Attempt"), Bytes(0x02),
            Str("extra"), Bytes(0x81), Str("deep"), Bytes(0x91, 0x01),
            Bytes(0x07), Str("x"),
            Str("OK"), Bytes(0xc3),
            Str("result"), Bytes(0xc4, 0x01, 0x09));

        var completion = Assert.IsType<TaskCompletion>(Bind(Direct(JsonIgnoreCondition.Never), Invocation(map), typeof(TaskCompletion)));

        Assert.Equal("t", completion.TaskId);
        Assert.Equal(2, completion.Attempt);
        Assert.True(completion.Ok);
        Assert.Equal(Bytes(0xc4, 0x01, 0x09), completion.ResultMessagePack!.Value.ToArray());
    }

    [Fact]
    public void Read_NilPayloadAndResult_BindLikeJsonNull()
    {
        var request = Assert.IsType<TaskRequest>(Bind(Direct(JsonIgnoreCondition.Never),
            Invocation(Concat(Bytes(0x82), Str("method"), Str("m"), Str("payload"), Bytes(0xc0))), typeof(TaskRequest)));
        Assert.Null(request.PayloadMessagePack);
        Assert.Equal(JsonValueKind.Null, request.Payload.ValueKind);

        var completion = Assert.IsType<TaskCompletion>(Bind(Direct(JsonIgnoreCondition.Never),
            Invocation(Concat(Bytes(0x83), Str("taskId"), Str("t"), Str("ok"), Bytes(0xc3), Str("result"), Bytes(0xc0))), typeof(TaskCompletion)));
        Assert.Null(completion.ResultMessagePack);
        Assert.Null(completion.Result);
    }

    [Theory]
    [InlineData("attempt", new[] { 0xa1, 0x33 })]                                    // "3": a string, not a number
    [InlineData("attempt", new[] { 0xcf, 0, 0, 0, 1, 0, 0, 0, 0 })]                  // uint64 beyond int
    [InlineData("attempt", new[] { 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0 })]            // 1.5
    [InlineData("ok", new[] { 0x01 })]                                               // 1, not a boolean
    [InlineData("taskId", new[] { 0x91, 0x01 })]                                     // an array, not a string
    [InlineData("error", new[] { 0xa1, 0x78 })]                                      // a string, not an object
    public void Read_WrongValueType_IsABindingFailure_NotAFormatError(string field, int[] value)
    {
        var map = Concat(Bytes(0x82), Str("taskId"), Str("t"), Str(field), Bytes(value));
        var input = new ReadOnlySequence<byte>(Invocation(map));

        Assert.True(Direct(JsonIgnoreCondition.Never).TryParseMessage(ref input, new TestInvocationBinder().Method("Target", typeof(TaskCompletion)), out var message));

        var failure = Assert.IsType<InvocationBindingFailureMessage>(message);
        Assert.Equal("1", failure.InvocationId);
        Assert.Contains(field, failure.BindingFailure.SourceException.InnerException!.Message);
    }

    [Fact]
    public void Read_NestingDepthCountsFromTheContract()
    {
        // {"taskId":"t","ok":false,"error":{"code":"c","message":"m"}}: the error map sits at depth 2.
        var map = Concat(Bytes(0x83), Str("taskId"), Str("t"), Str("ok"), Bytes(0xc2), Str("error"), Bytes(0x82), Str("code"), Str("c"), Str("message"), Str("m"));
        var shallow = new MessagePackHubProtocol(new MessagePackHubProtocolOptions { MaximumNestingDepth = 2 });

        var completion = Assert.IsType<TaskCompletion>(Bind(shallow, Invocation(map), typeof(TaskCompletion)));

        Assert.Equal("c", completion.Error!.Code);
        var tooShallow = new MessagePackHubProtocol(new MessagePackHubProtocolOptions { MaximumNestingDepth = 1 });
        Assert.Throws<MessagePackFormatException>(() => Bind(tooShallow, Invocation(map), typeof(TaskCompletion)));
    }

    [Fact]
    public void Read_PayloadWithoutAJsonForm_IsABindingFailure()
    {
        // payload = ext type 5 (only the timestamp extension has a JSON form)
        var map = Concat(Bytes(0x82), Str("method"), Str("m"), Str("payload"), Bytes(0xd4, 0x05, 0x00));
        var input = new ReadOnlySequence<byte>(Invocation(map));

        Assert.True(Direct(JsonIgnoreCondition.Never).TryParseMessage(ref input, new TestInvocationBinder().Method("Target", typeof(TaskRequest)), out var message));

        Assert.IsType<InvocationBindingFailureMessage>(message);
    }

    [Fact]
    public void Read_ThenWrite_PassesThePayloadBytesThroughUnchanged()
    {
        var payload = Pack(new { image = Enumerable.Range(0, 784).Select(i => (byte)i).ToArray(), topK = 1 });
        var protocol = Direct(JsonIgnoreCondition.WhenWritingNull);
        var request = (TaskRequest)Bind(protocol, WriteInvocation(protocol, new TaskRequest { Method = "image.label", PayloadMessagePack = payload }), typeof(TaskRequest));

        var assignment = new TaskAssignment { TaskId = "t", Attempt = 1, Method = request.Method, PayloadMessagePack = request.PayloadMessagePack, TimeoutMs = 100 };
        var forwarded = (TaskAssignment)Bind(protocol, WriteInvocation(protocol, assignment), typeof(TaskAssignment));

        Assert.Equal(payload.ToArray(), forwarded.PayloadMessagePack!.Value.ToArray());
        Assert.True(MessagePackPayload.TryGetBinary(forwarded.PayloadMessagePack.Value, "image", out var image));
        Assert.Equal(784, image.Length);
    }

    /// <summary>A framed Invocation of "Target" with id "1" and <paramref name="argument"/> as its one argument.</summary>
    private static byte[] Invocation(byte[] argument)
    {
        var body = Concat(Bytes(0x96, 0x01, 0x80), Str("1"), Str("Target"), Bytes(0x91), argument, Bytes(0x90));
        Assert.True(body.Length < 128);
        return Concat(Bytes(body.Length), body);
    }
}
