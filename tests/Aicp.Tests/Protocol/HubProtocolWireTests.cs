using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aicp.Hub.Hosting;
using Aicp.Protocol;
using MessagePack;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static Aicp.Tests.Protocol.TaskPayloadTests;

namespace Aicp.Tests.Protocol;

/// <summary>
/// The contracts through SignalR's own hub protocols, configured as the hub configures them: camelCase keys in
/// MessagePack, payloads passed through as bytes, hostile payloads refused as binding failures, JSON peers served JSON.
/// </summary>
public sealed class HubProtocolWireTests
{
    private readonly MessagePackHubProtocol _messagePack = new(Options.Create(new MessagePackHubProtocolOptions()));
    private readonly JsonHubProtocol _json = new(Options.Create(new JsonHubProtocolOptions
    {
        PayloadSerializerOptions = new JsonSerializerOptions(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull },
    }));

    private static readonly TestInvocationBinder Binder = new TestInvocationBinder()
        .Method(HubMethods.Submit, typeof(TaskRequest))
        .Method(HubMethods.Complete, typeof(TaskCompletion))
        .Method(HubMethods.Execute, typeof(TaskAssignment));

    private static byte[] Framed(byte[] body)
    {
        var prefix = new List<byte>();
        var length = body.Length;
        do
        {
            var b = (byte)(length & 0x7f);
            length >>= 7;
            prefix.Add(length > 0 ? (byte)(b | 0x80) : b);
        }
        while (length > 0);

        return [.. prefix, .. body];
    }

    /// <summary>An Invocation frame: [1, {}, "1", target, [argument], []].</summary>
    private static byte[] Invocation(string target, byte[] argument) => Framed([.. Pack((ref MessagePackWriter w) =>
    {
        w.WriteArrayHeader(6);
        w.Write(1);
        w.WriteMapHeader(0);
        w.Write("1");
        w.Write(target);
        w.WriteArrayHeader(1);
    }), .. argument, 0x90]);

    private static byte[] Request(byte[] payload) => [.. Pack((ref MessagePackWriter w) =>
    {
        w.WriteMapHeader(2);
        w.Write("method");
        w.Write("image.label");
        w.Write("payload");
    }), .. payload];

    private HubMessage ParseMessagePack(byte[] frame)
    {
        var input = new ReadOnlySequence<byte>(frame);
        Assert.True(_messagePack.TryParseMessage(ref input, Binder, out var message));
        Assert.Equal(0, input.Length);
        return message!;
    }

    private byte[] Write(IHubProtocol protocol, HubMessage message)
    {
        var output = new ArrayBufferWriter<byte>();
        protocol.WriteMessage(message, output);
        return output.WrittenSpan.ToArray();
    }

    [Fact]
    public void ParseSubmit_MessagePackPayload_KeptAsTheSendersBytes_ACopyOfTheFrame()
    {
        var frame = Invocation(HubMethods.Submit, Request(ImageMap));

        var request = Assert.IsType<TaskRequest>(Assert.IsType<InvocationMessage>(ParseMessagePack(frame)).Arguments[0]);
        Array.Clear(frame); // SignalR reuses its input buffer once a message is parsed

        Assert.Equal("image.label", request.Method);
        Assert.True(request.Payload!.IsMessagePack);
        Assert.Equal(ImageMap, request.Payload.MessagePack.ToArray());
    }

    public static TheoryData<string, byte[]> HostilePayloads => new()
    {
        { "nested 200,000 deep", Nested(200_000) },
        { "nested one past the limit", Nested(TaskPayload.MaxDepth + 1) },
        { "invalid UTF-8", [0xa2, 0xc3, 0x28] },
        { "extension type 5", [0xd4, 0x05, 0x00] },
        { "map key that is a map", [0x81, 0x80, 0x01] },
    };

    [Theory]
    [MemberData(nameof(HostilePayloads))]
    public void ParseSubmit_HostilePayload_BindingFailureForThatInvocation(string because, byte[] payload)
    {
        var failure = Assert.IsType<InvocationBindingFailureMessage>(ParseMessagePack(Invocation(HubMethods.Submit, Request(payload))));

        Assert.Equal("1", failure.InvocationId);
        Assert.Equal(HubMethods.Submit, failure.Target);
        Assert.NotNull(failure.BindingFailure.SourceException);
        Assert.False(string.IsNullOrEmpty(because));
    }

    [Fact]
    public void ParseSubmit_WrongFieldType_BindingFailure()
    {
        var request = Pack((ref MessagePackWriter w) =>
        {
            w.WriteMapHeader(2);
            w.Write("method");
            w.Write("image.label");
            w.Write("timeoutMs");
            w.Write("soon");
        });

        Assert.IsType<InvocationBindingFailureMessage>(ParseMessagePack(Invocation(HubMethods.Submit, request)));
    }

    [Fact]
    public void WriteExecute_MessagePack_CamelCaseKeysAndThePayloadVerbatim()
    {
        var assignment = new TaskAssignment { TaskId = "t1", Attempt = 1, Method = "m", Payload = TaskPayload.FromMessagePack(ImageMap), TimeoutMs = 1000 };

        var frame = Write(_messagePack, new InvocationMessage(HubMethods.Execute, [assignment]));

        var argument = Pack((ref MessagePackWriter w) =>
        {
            w.WriteMapHeader(6);
            w.Write("taskId"); w.Write("t1");
            w.Write("attempt"); w.Write(1);
            w.Write("method"); w.Write("m");
            w.Write("payload"); w.WriteRaw(ImageMap);
            w.Write("timeoutMs"); w.Write(1000);
            w.Write("stream"); w.WriteNil(); // not a streamed task: nil, as every null over MessagePack
        });
        var expected = Framed([.. Pack((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(6);
            w.Write(1);
            w.WriteMapHeader(0);
            w.WriteNil();
            w.Write(HubMethods.Execute);
            w.WriteArrayHeader(1);
        }), .. argument, 0x90]);
        Assert.Equal(expected, frame);
    }

    [Fact]
    public void CompletionToResult_MessagePackBothWays_ResultBytesUnchanged_JsonPeerGetsBase64()
    {
        var result = Pack((ref MessagePackWriter w) =>
        {
            w.WriteMapHeader(1);
            w.Write("mask");
            w.Write(Enumerable.Range(0, 70_000).Select(i => (byte)i).ToArray());
        });
        var completion = Pack((ref MessagePackWriter w) =>
        {
            w.WriteMapHeader(4);
            w.Write("taskId"); w.Write("t1");
            w.Write("attempt"); w.Write(1);
            w.Write("ok"); w.Write(true);
            w.Write("result"); w.WriteRaw(result);
        });
        var bound = Assert.IsType<TaskCompletion>(Assert.IsType<InvocationMessage>(ParseMessagePack(Invocation(HubMethods.Complete, completion))).Arguments[0]);
        var taskResult = new TaskResult { TaskId = "t1", Status = TaskStatuses.Completed, Result = bound.Result, Attempts = 1, Strategy = "round-robin" };

        var toMessagePack = Write(_messagePack, CompletionMessage.WithResult("7", taskResult));
        var toJson = Encoding.UTF8.GetString(Write(_json, CompletionMessage.WithResult("7", taskResult))).TrimEnd('\u001e');

        Assert.True(toMessagePack.AsSpan().IndexOf(result) > 0, "the result's bytes are in the MessagePack frame as they arrived");
        var json = JsonDocument.Parse(toJson).RootElement.GetProperty("result");
        Assert.Equal(Convert.ToBase64String(result.AsSpan(^70_000..)), json.GetProperty("result").GetProperty("mask").GetString());
        Assert.False(json.TryGetProperty("error", out _), "JSON leaves nulls out");
    }

    [Fact]
    public void JsonSubmitterPayload_ToMessagePackAgent_Converted()
    {
        var frame = Encoding.UTF8.GetBytes("""{"type":1,"invocationId":"1","target":"Submit","arguments":[{"method":"m","payload":{"n":3,"text":"hi"}}]}""" + "\u001e");
        var input = new ReadOnlySequence<byte>(frame);
        Assert.True(_json.TryParseMessage(ref input, Binder, out var message));
        var request = Assert.IsType<TaskRequest>(Assert.IsType<InvocationMessage>(message).Arguments[0]);
        Assert.False(request.Payload!.IsMessagePack);
        Assert.Equal("""{"n":3,"text":"hi"}""".Length, request.Payload.Length);

        var assignment = new TaskAssignment { TaskId = "t", Attempt = 1, Method = "m", Payload = request.Payload, TimeoutMs = 5 };
        var written = Write(_messagePack, new InvocationMessage(HubMethods.Execute, [assignment]));

        var parsed = new ReadOnlySequence<byte>(written);
        var binder = new TestInvocationBinder().Method(HubMethods.Execute, typeof(TaskAssignment));
        Assert.True(_messagePack.TryParseMessage(ref parsed, binder, out var execute));
        var received = Assert.IsType<TaskAssignment>(Assert.IsType<InvocationMessage>(execute).Arguments[0]);
        Assert.True(received.Payload!.TryGetInt64("n", out var n));
        Assert.Equal(3, n);
        Assert.Equal("hi", received.Payload.Json.GetProperty("text").GetString());
    }

    [Fact]
    public void HubRegisteredMessagePackProtocol_KeepsUntrustedDataSecurity()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddAicpHub(new ConfigurationBuilder().Build());
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<MessagePackHubProtocolOptions>>().Value.SerializerOptions;

        Assert.True(options.Security.HashCollisionResistant);
        Assert.Equal(MessagePackSecurity.UntrustedData.MaximumObjectGraphDepth, options.Security.MaximumObjectGraphDepth);
    }
}
