using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using Aicp.SampleAgents.Labelling.Training;
using Aicp.SampleAgents.Load;
using Aicp.SampleAgents.Onnx;
using Aicp.Tests.Infrastructure;
using Aicp.Tests.SampleAgents.Labelling;

namespace Aicp.Tests.SampleAgents.Onnx;

/// <summary>Two models served by the generic model agent behind a real hub, over either wire protocol.</summary>
public sealed class OnnxAgentIntegrationTests
{
    [Theory]
    [InlineData(HubProtocol.Json)]
    [InlineData(HubProtocol.MessagePack)]
    public async Task Submit_CnnAndMlpAgents_OutputsMatchDirectRunsAndBadTensorsFailWithTheirCodes(HubProtocol protocol)
    {
        await using var h = await HubHarness.StartAsync(protocol: protocol);
        using var cnn = OnnxModel.Load(TestModels.ShippedCnn);
        using var mlp = OnnxModel.Load(TestModels.Mlp);
        string hub = h.Hub.BaseUrl.ToString();
        var cnnAgent = h.Own(OnnxAgent.Create(new OnnxAgentSettings(hub, "cnn-1", "digits.cnn", Concurrency: 16, BatchSize: 8, protocol,
            BatchWait: TimeSpan.FromMilliseconds(20)), cnn));
        var mlpAgent = h.Own(OnnxAgent.Create(new OnnxAgentSettings(hub, "mlp-1", "digits.mlp", Protocol: protocol), mlp));
        await Task.WhenAll(cnnAgent.StartAsync(), mlpAgent.StartAsync()).DefaultTimeout();
        var client = await h.StartClientAsync();
        var data = MnistTestData.Get();
        float[] Digits(int first, int count) => Enumerable.Range(first, count)
            .SelectMany(i => data.Image(data.TestIndices[i]).ToArray().Select(p => p / 255f)).ToArray();
        var once = new SubmitOptions { MaxAttempts = 1 };

        // The CNN: 24 one-digit tasks at once, as bin (MessagePack) or as arrays of numbers (JSON), gathered into batches.
        var cnnResults = await Task.WhenAll(Enumerable.Range(0, 24).Select(i =>
            client.SubmitAsync("digits.cnn", Payload(protocol, "input", [1, 1, 28, 28], Digits(i, 1)), once))).DefaultTimeout();
        float[] expected = cnn.Run([new FloatTensor("input", [24, 1, 28, 28], Digits(0, 24))])[0].Data;
        for (int i = 0; i < 24; i++)
        {
            Assert.Equal(TaskStatuses.Completed, cnnResults[i].Status);
            var logits = TensorPayloads.Outputs(cnnResults[i].Result!)["logits"];
            Assert.Equal([1L, 10L], logits.Shape);
            Assert.Equal(protocol == HubProtocol.MessagePack, logits.Binary);
            for (int k = 0; k < 10; k++)
            {
                Assert.Equal(expected[i * 10 + k], logits.Data[k], 1e-4f);
            }
        }

        Assert.True(cnn.RunCount < 24 + 1, $"{cnn.RunCount} runs for 24 tasks"); // + the reference run above

        // The MLP: three digits in one task; probabilities match the trainer's own forward pass.
        var mlpResult = await client.SubmitAsync("digits.mlp", Payload(protocol, "pixels", [3, 784], Digits(30, 3)), once).DefaultTimeout();
        Assert.Equal(TaskStatuses.Completed, mlpResult.Status);
        var probabilities = TensorPayloads.Outputs(mlpResult.Result!)["probabilities"];
        float[] trainer = MlpTrainer.Probabilities(TestModels.MlpWeights, data, data.TestIndices[30..33]);
        Assert.Equal([3L, 10L], probabilities.Shape);
        for (int i = 0; i < trainer.Length; i++)
        {
            Assert.Equal(trainer[i], probabilities.Data[i], 1e-5f);
        }

        Assert.Equal("mlp-1", mlpResult.AgentId);

        // Bad tensors: typed errors, one attempt each; the agents keep serving.
        var wrongShape = await client.SubmitAsync("digits.cnn", Payload(protocol, "input", [1, 784], Digits(0, 1)), once).DefaultTimeout();
        var wrongName = await client.SubmitAsync("digits.mlp", Payload(protocol, "input", [1, 784], Digits(0, 1)), once).DefaultTimeout();
        var tooShort = await client.SubmitAsync("digits.mlp", Payload(protocol, "pixels", [2, 784], Digits(0, 1)), once).DefaultTimeout();
        var notTensors = await client.SubmitAsync("digits.mlp", new { image = "abc" }, once).DefaultTimeout();
        Assert.Equal(
            [TensorErrorCodes.ShapeMismatch, TensorErrorCodes.UnknownInput, TensorErrorCodes.DataLengthMismatch, TensorErrorCodes.InvalidPayload],
            new[] { wrongShape, wrongName, tooShort, notTensors }.Select(r => r.Status == TaskStatuses.Failed ? r.Error!.Code : r.Status));
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Submit_JsonClientSendsBase64Bytes_GetsBase64BytesBack()
    {
        await using var h = await HubHarness.StartAsync();
        using var model = OnnxModel.Load(TestModels.Mlp);
        var agent = h.Own(OnnxAgent.Create(new OnnxAgentSettings(h.Hub.BaseUrl.ToString(), "mlp-1", "digits.mlp"), model));
        await agent.StartAsync().DefaultTimeout();
        var client = await h.StartClientAsync();
        var pixels = new float[784];

        var result = await client.SubmitAsync("digits.mlp",
            new { inputs = new Dictionary<string, object> { ["pixels"] = new { shape = new[] { 1, 784 }, data = TensorPayloads.Bytes(pixels) } } }).DefaultTimeout();

        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal(System.Text.Json.JsonValueKind.String, result.Result!.Json.GetProperty("outputs").GetProperty("probabilities").GetProperty("data").ValueKind);
        Assert.Equal(1f, TensorPayloads.Outputs(result.Result)["probabilities"].Data.Sum(), 1e-4f);

        // docs/LABELLER.md's payload and result: the keys it shows (tensor names aside) are the ones sent and answered
        var block = Aicp.Tests.Docs.Markdown.Read("docs/LABELLER.md").Blocks().Single(b => b.Text.StartsWith("{ \"inputs\":", StringComparison.Ordinal)).Text;
        var resultAt = block.IndexOf("{ \"outputs\"", StringComparison.Ordinal);
        static string[] Keys(string text) =>
            [.. System.Text.RegularExpressions.Regex.Matches(text, "\"(\\w+)\":").Select(m => m.Groups[1].Value).Distinct().Order(StringComparer.Ordinal)];
        Assert.Equal(["data", "input", "inputs", "outputs", "shape"], Keys(block[..resultAt]));
        var json = result.Result.Json;
        string[] answered = [.. json.EnumerateObject().Select(p => p.Name)
            .Concat(json.GetProperty("outputs").EnumerateObject().SelectMany(o => o.Value.EnumerateObject().Select(p => p.Name))).Append("logits")
            .Distinct().Order(StringComparer.Ordinal)];
        Assert.Equal(Keys(block[resultAt..]), answered);
    }

    [Theory]
    [InlineData(HubProtocol.Json)]
    [InlineData(HubProtocol.MessagePack)]
    public async Task LoadRunner_ShippedDigitsAsTensors_BothModelsLabelThemAndEveryResultIsJudged(HubProtocol protocol)
    {
        await using var h = await HubHarness.StartAsync(protocol: protocol);
        using var cnn = OnnxModel.Load(TestModels.ShippedCnn);
        using var mlp = OnnxModel.Load(TestModels.Mlp);
        string hub = h.Hub.BaseUrl.ToString();
        var cnnAgent = h.Own(OnnxAgent.Create(new OnnxAgentSettings(hub, "cnn-1", "digits.cnn", 32, BatchSize: 16, protocol), cnn));
        var mlpAgent = h.Own(OnnxAgent.Create(new OnnxAgentSettings(hub, "mlp-1", "digits.mlp", 32, BatchSize: 16, protocol), mlp));
        await Task.WhenAll(cnnAgent.StartAsync(), mlpAgent.StartAsync()).DefaultTimeout();
        var client = await h.StartClientAsync();
        var images = SampleImages.Load();
        var once = new SubmitOptions { MaxAttempts = 1 };

        var onCnn = await LoadRunner.RunAsync(client, "digits.cnn", 200, 32, i => images.TensorPayload(i, "input", [1, 1, 28, 28]), once,
            isCorrect: (i, r) => LabelCheck.IsCorrectTensor(images, i, r)).DefaultTimeout();
        var onMlp = await LoadRunner.RunAsync(client, "digits.mlp", 200, 32, i => images.TensorPayload(i, "pixels", [1, 784]), once,
            isCorrect: (i, r) => LabelCheck.IsCorrectTensor(images, i, r)).DefaultTimeout();

        Assert.Equal((200, 200), (onCnn.Count(TaskStatuses.Completed), onMlp.Count(TaskStatuses.Completed)));
        Assert.True(onCnn.Accuracy >= 0.98, $"CNN: {onCnn.Accuracy:P1} of 200 shipped digits");
        Assert.True(onMlp.Accuracy >= 0.80, $"MLP (two epochs on 2,000 digits): {onMlp.Accuracy:P1}");
        Assert.True(onCnn.TasksPerSecond > 0);
        await h.AssertNothingPendingAsync();
    }

    /// <summary>Over MessagePack the data is a bin inside the tensor map; over JSON an array of numbers.</summary>
    private static object Payload(HubProtocol protocol, string name, long[] shape, float[] values) =>
        protocol == HubProtocol.MessagePack
            ? TensorPayloads.Request([(name, shape, TensorPayloads.Bytes(values))])
            : new { inputs = new Dictionary<string, object> { [name] = new { shape, data = values } } };
}
