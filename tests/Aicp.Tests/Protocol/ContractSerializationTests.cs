using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Protocol;

public sealed class ContractSerializationTests
{
    [Fact]
    public void Serialize_TaskRequest_CamelCaseFields()
    {
        var json = JsonSerializer.Serialize(new TaskRequest
        {
            Method = "image.label", Payload = TaskPayload.FromJson(JsonSerializer.SerializeToElement(new { image = "AA==" })),
            Strategy = "round-robin", TimeoutMs = 500, MaxAttempts = 2,
        }, Wire.Options);
        Assert.Equal("""{"method":"image.label","payload":{"image":"AA=="},"strategy":"round-robin","timeoutMs":500,"maxAttempts":2}""", json);
    }

    [Fact]
    public void Serialize_DeadlineAndRouteFields_CamelCaseKeysOnBothProtocols()
    {
        var request = new TaskRequest { Method = "image.label", DeadlineMs = 250 };
        Assert.Contains("\"deadlineMs\":250", JsonSerializer.Serialize(request, Wire.Options));
        var entry = new RouteEntry { AgentId = "a1", Outcome = AttemptOutcomes.Superseded, PredictedMs = 12.5, Hedge = true };
        var json = JsonSerializer.Serialize(entry, Wire.Options);
        Assert.Contains("\"predictedMs\":12.5", json);
        Assert.Contains("\"hedge\":true", json);

        var packed = MessagePack.MessagePackSerializer.ConvertToJson(MessagePack.MessagePackSerializer.Serialize(entry));
        Assert.Contains("\"predictedMs\":12.5", packed);
        Assert.Contains("\"hedge\":true", packed);
        Assert.Contains("\"outcome\":\"superseded\"", packed);
        Assert.Contains("\"deadlineMs\":250", MessagePack.MessagePackSerializer.ConvertToJson(MessagePack.MessagePackSerializer.Serialize(request)));
    }

    [Fact]
    public void Serialize_StreamContracts_CamelCaseKeysOnBothProtocols()
    {
        var chunk = TaskPayload.FromJson(JsonSerializer.SerializeToElement(new { delta = "word " }));
        object[] contracts =
        [
            new TaskPartial { TaskId = "t1", Attempt = 2, Chunk = chunk },
            new TaskStreamItem { TaskId = "t1", Seq = 3, Chunk = chunk },
            new TaskStreamItem { TaskId = "t1", Result = new TaskResult { TaskId = "t1", Status = TaskStatuses.Completed } },
            new TaskAssignment { TaskId = "t1", Attempt = 1, Method = "text.chat", TimeoutMs = 5, Stream = true },
        ];
        string[][] keys =
        [
            ["\"taskId\":\"t1\"", "\"attempt\":2", "\"chunk\":{\"delta\":\"word \"}"],
            ["\"taskId\":\"t1\"", "\"seq\":3", "\"chunk\":{\"delta\":\"word \"}"],
            ["\"result\":{\"taskId\":\"t1\",\"status\":\"completed\""],
            ["\"stream\":true"],
        ];

        for (var i = 0; i < contracts.Length; i++)
        {
            var json = JsonSerializer.Serialize(contracts[i], contracts[i].GetType(), Wire.Options);
            var packed = MessagePack.MessagePackSerializer.ConvertToJson(MessagePack.MessagePackSerializer.Serialize(contracts[i].GetType(), contracts[i]));
            foreach (var key in keys[i])
            {
                Assert.Contains(key, json);
                Assert.Contains(key, packed);
            }
        }

        Assert.DoesNotContain("\"result\"", JsonSerializer.Serialize(contracts[1], Wire.Options)); // a chunk item carries no result
    }

    [Fact]
    public void Deserialize_TaskResultFromAnotherClient_AllFieldsBound()
    {
        const string json = """
            {"taskId":"t1","status":"completed","result":{"labels":[]},"agentId":"a1","attempts":2,"strategy":"least-loaded",
             "latencyMs":12.5,"route":[{"agentId":"a0","outcome":"timeout","ms":5,"error":{"code":"agent_timeout","message":"m"}},
             {"agentId":"a1","outcome":"completed","ms":7.5}]}
            """;
        var result = JsonSerializer.Deserialize<TaskResult>(json, Wire.Options)!;
        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(2, result.Attempts);
        Assert.Equal(JsonValueKind.Object, result.Result!.Json.ValueKind);
        Assert.Equal([AttemptOutcomes.Timeout, AttemptOutcomes.Completed], result.Route.Select(r => r.Outcome));
        Assert.Equal(ErrorCodes.AgentTimeout, result.Route[0].Error!.Code);
    }

    [Fact]
    public void RoundTrip_RegistrationAndCompletion_Preserved()
    {
        var registration = new AgentRegistration
        {
            AgentId = "gpu-1", Capabilities = ["image.label"], MaxConcurrency = 16, Metadata = new Dictionary<string, string> { ["device"] = "cpu" },
        };
        var back = JsonSerializer.Deserialize<AgentRegistration>(JsonSerializer.Serialize(registration, Wire.Options), Wire.Options)!;
        Assert.Equal("gpu-1", back.AgentId);
        Assert.Equal(["image.label"], back.Capabilities);
        Assert.Equal(16, back.MaxConcurrency);
        Assert.Equal("cpu", back.Metadata!["device"]);

        var completion = new TaskCompletion { TaskId = "t", Attempt = 3, Ok = false, Error = TaskError.Of("model_error", "x") };
        var json = JsonSerializer.Serialize(completion, Wire.Options);
        Assert.Equal("""{"taskId":"t","attempt":3,"ok":false,"error":{"code":"model_error","message":"x"}}""", json);
    }
}
