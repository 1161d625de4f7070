using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Batching;
using Aicp.Agent.Sdk.Connection;
using Aicp.Agent.Sdk.Serialization;
using Aicp.Protocol;
using Aicp.SampleAgents.Onnx;
using Aicp.Tests.Infrastructure;
using Aicp.Tests.SampleAgents.Labelling;

using Item = Aicp.Agent.Sdk.Batching.BatchItem<Aicp.Protocol.TaskPayload?, Aicp.Protocol.TaskPayload>;

namespace Aicp.Tests.SampleAgents.Onnx;

/// <summary><see cref="OnnxAgent.RunBatch"/> on hand-made batches: how many runs, and each task's own outcome.</summary>
public class OnnxAgentBatchTests
{
    [Fact]
    public async Task RunBatch_GoodAndBadTasks_OneRunForTheGoodOnesEachWithItsOwnOutcome()
    {
        using var model = OnnxModel.Load(TestModels.ShippedCnn);
        var data = MnistTestData.Get();
        float[] Digits(int first, int count) => Enumerable.Range(first, count)
            .SelectMany(i => data.Image(data.TestIndices[i]).ToArray().Select(p => p / 255f)).ToArray();
        (string, long[], object) Input(int first, int count) => ("input", [count, 1, 28, 28], TensorPayloads.Bytes(Digits(first, count)));

        Item[] batch =
        [
            Item(TensorPayloads.Request([Input(0, 1)])),
            Item(TensorPayloads.Request([Input(1, 3)])),                                        // three digits in one task
            Item(TensorPayloads.Request([("input", [1, 1, 28, 28], new byte[100])])),            // data_length_mismatch
            Item(TensorPayloads.Request([("input", [1, 784], TensorPayloads.Bytes(Digits(4, 1)))])), // shape_mismatch
            Item(TensorPayloads.Request([("pixels", [1, 784], TensorPayloads.Bytes(Digits(4, 1)))])), // unknown_input
            Item(TensorPayloads.Request([("input", [2, 1, 28, 28], Digits(4, 2))])),                 // numbers, not bytes
        ];

        OnnxAgent.RunBatch(model, batch, "agent-1");

        Assert.Equal(1, model.RunCount); // the three good tasks (six digits) stacked into one run
        var outcomes = await Task.WhenAll(batch.Select(Outcome)).DefaultTimeout();
        Assert.Equal([null, null, TensorErrorCodes.DataLengthMismatch, TensorErrorCodes.ShapeMismatch, TensorErrorCodes.UnknownInput, null],
            outcomes.Select(o => o.Error));

        // Each good task's logits are those of a run of its own digits alone.
        int[][] digitsOf = [[0], [1, 2, 3], [], [], [], [4, 5]];
        foreach (int t in new[] { 0, 1, 5 })
        {
            var logits = TensorPayloads.Outputs(outcomes[t].Result!)["logits"];
            Assert.Equal([digitsOf[t].Length, 10L], logits.Shape);
            Assert.Equal(t != 5, logits.Binary); // bytes in, bytes out; numbers in, numbers out
            var alone = model.Run([new FloatTensor("input", [digitsOf[t].Length, 1, 28, 28], Digits(digitsOf[t][0], digitsOf[t].Length))])[0].Data;
            for (int i = 0; i < alone.Length; i++)
            {
                Assert.Equal(alone[i], logits.Data[i], 1e-4f);
            }

            for (int d = 0; d < digitsOf[t].Length; d++)
            {
                int predicted = Array.IndexOf(logits.Data[(d * 10)..(d * 10 + 10)], logits.Data[(d * 10)..(d * 10 + 10)].Max());
                Assert.Equal(data.Labels[data.TestIndices[digitsOf[t][d]]], predicted);
            }
        }

        Assert.Equal("digits.onnx", TensorPayloads.Field(outcomes[0].Result!, "model"));
        Assert.Equal("agent-1", TensorPayloads.Field(outcomes[0].Result!, "agent"));
    }

    [Fact]
    public async Task RunBatch_FixedFirstDimension_EachTaskRunsAlone()
    {
        using var model = OnnxModel.Load(TestModels.FixedRelu);
        Item[] batch = [.. Enumerable.Range(0, 3).Select(i => Item(TensorPayloads.Request([("x", [2, 3], new float[] { -1, i, 2, -3, 4, -5 })])))];

        OnnxAgent.RunBatch(model, batch, "agent-1");

        Assert.Equal(3, model.RunCount);
        var outcomes = await Task.WhenAll(batch.Select(Outcome)).DefaultTimeout();
        Assert.All(outcomes, o => Assert.Null(o.Error));
        Assert.Equal([0f, 2, 2, 0, 4, 0], TensorPayloads.Outputs(outcomes[2].Result!)["y"].Data);
    }

    [Fact]
    public async Task RunBatch_RowsThatOnnxRuntimeRefuses_OnlyThatTaskFailsWithInferenceFailed()
    {
        using var model = OnnxModel.Load(TestModels.TwoInputAdd);
        Item[] batch =
        [
            Item(TensorPayloads.Request([("a", [1, 3], new float[] { 1, 2, 3 }), ("b", [1, 3], new float[] { 1, 1, 1 })])),
            Item(TensorPayloads.Request([("a", [2, 3], new float[6]), ("b", [3, 3], new float[9])])), // 2 and 3 rows do not broadcast
            Item(TensorPayloads.Request([("a", [1, 3], new float[] { 5, 5, 5 }), ("b", [1, 3], new float[] { 1, 2, 3 })])),
        ];

        OnnxAgent.RunBatch(model, batch, "agent-1");

        var outcomes = await Task.WhenAll(batch.Select(Outcome)).DefaultTimeout();
        Assert.Equal([null, TensorErrorCodes.InferenceFailed, null], outcomes.Select(o => o.Error));
        Assert.Equal(2, model.RunCount); // the two agreeing tasks stacked, the other alone
        Assert.Equal([6f, 7, 8], TensorPayloads.Outputs(outcomes[2].Result!)["sum"].Data);
    }

    private static readonly PayloadSerializer Serializer = new(AicpConnectionOptions.CreateSerializerOptions(), HubProtocol.MessagePack);

    /// <summary>A task of the batch as the SDK hands it to the handler: the raw payload as its request.</summary>
    private static Item Item(TaskPayload payload) => new(payload,
        new AgentTaskContext(new TaskAssignment { TaskId = Guid.NewGuid().ToString("N"), Attempt = 1, Method = "model.run", Payload = payload, TimeoutMs = 5000 }, Serializer),
        CancellationToken.None);

    private static async Task<(string? Error, TaskPayload? Result)> Outcome(Item item)
    {
        try
        {
            return (null, await item.Outcome);
        }
        catch (AgentTaskException ex)
        {
            return (ex.Code, null);
        }
    }
}
