using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aicp.Protocol;

namespace Aicp.Tests.Protocol;

/// <summary>
/// A result's route is written and read by hand (RouteJsonConverter): the JSON must be what the contract's serializer
/// gives for the same entries, and read back to the same values.
/// </summary>
public sealed class RouteJsonConverterTests
{
    // The hub's and the SDK's JSON settings for the contracts: camelCase names, nulls left out.
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private static readonly RouteEntry Full = new()
    {
        AgentId = "agent-é<1>", Method = "image.label", Node = "node-b", Outcome = AttemptOutcomes.Error, Ms = 12.345, Strategy = "adaptive",
        Candidates = 4, Pending = 2, LatencyEstimateMs = 0.1 + 0.2, PredictedMs = 1e-7, Trust = 0.95, Circuit = "half-open", SuccessRate = 0.5,
        SlowStart = 0.25, Hedge = true, Error = TaskError.Of("agent_error", "it said \"no\"\n"),
    };

    private static readonly RouteEntry Bare = new() { AgentId = "a", Outcome = AttemptOutcomes.Completed, Ms = 3, Trust = 1 };

    [Fact]
    public void FullEntry_SetsEveryProperty()
    {
        // Guards the comparison below: a property added to RouteEntry must be set here, and so written by the converter.
        foreach (var property in typeof(RouteEntry).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var value = property.GetValue(Full);
            Assert.True(value is not null && !Equals(value, property.PropertyType.IsValueType ? Activator.CreateInstance(property.PropertyType) : null),
                $"{property.Name} is not set in the full entry");
        }
    }

    [Fact]
    public void Write_SameTextAsTheContractSerializerGivesEachEntry()
    {
        var result = new TaskResult { TaskId = "t", Status = TaskStatuses.Failed, Strategy = "adaptive", Route = [Full, Bare] };

        var written = JsonSerializer.Serialize(result, Options);

        // RouteEntry itself has no converter: serialized alone, it goes through the serializer's own contract.
        var expected = $"\"route\":[{JsonSerializer.Serialize(Full, Options)},{JsonSerializer.Serialize(Bare, Options)}]";
        Assert.Contains(expected, written, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_WhatWasWritten_SameEntries()
    {
        var written = JsonSerializer.Serialize(new TaskResult { TaskId = "t", Route = [Full, Bare] }, Options);

        var read = JsonSerializer.Deserialize<TaskResult>(written, Options)!;

        Assert.Equal(2, read.Route.Count);
        Assert.Equal(JsonSerializer.Serialize(Full, Options), JsonSerializer.Serialize(read.Route[0], Options));
        Assert.Equal(JsonSerializer.Serialize(Bare, Options), JsonSerializer.Serialize(read.Route[1], Options));
    }

    [Fact]
    public void Read_NamesInAnyCase_NullsAndUnknownPropertiesSkipped()
    {
        const string json = """
            {"taskId":"t","route":[{"AGENTID":"a","Outcome":"completed","ms":2.5,"extra":{"deep":[1,{"x":null}]},"predictedMs":null,
              "hedge":null,"error":null,"circuit":null,"pending":7,"successRate":null,"slowStart":null},{}]}
            """;

        var route = JsonSerializer.Deserialize<TaskResult>(json, Options)!.Route;

        Assert.Equal(2, route.Count);
        Assert.Equal(("a", "completed", 2.5, 7), (route[0].AgentId, route[0].Outcome, route[0].Ms, route[0].Pending));
        Assert.Null(route[0].PredictedMs);
        Assert.Null(route[0].Hedge);
        Assert.Null(route[0].Error);
        Assert.Null(route[0].Circuit);
        Assert.Equal(("", ""), (route[1].AgentId, route[1].Outcome));
    }

    [Theory]
    [InlineData("""{"route":{}}""")]
    [InlineData("""{"route":[1]}""")]
    [InlineData("""{"route":[{"ms":"fast"}]}""")]
    [InlineData("""{"route":[{"candidates":1.5}]}""")]
    [InlineData("""{"route":[{"agentId":3}]}""")]
    [InlineData("""{"route":[{"hedge":"yes"}]}""")]
    public void Read_WrongShape_JsonException(string json)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<TaskResult>(json, Options));
    }

    [Fact]
    public void Read_NullRoute_IsNull()
    {
        Assert.Null(JsonSerializer.Deserialize<TaskResult>("""{"route":null}""", Options)!.Route);
    }
}
