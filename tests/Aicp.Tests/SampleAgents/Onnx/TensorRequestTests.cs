using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Protocol;
using Aicp.SampleAgents.Onnx;
using MessagePack;

namespace Aicp.Tests.SampleAgents.Onnx;

public sealed class TensorRequestTests : IDisposable
{
    private static readonly float[] Six = [1, -2, 3.5f, 0, 5, 6];
    private readonly OnnxModel _add = OnnxModel.Load(TestModels.TwoInputAdd);

    public void Dispose() => _add.Dispose();

    [Fact]
    public void Read_BinArrayAndBase64Data_SameValuesAndBinaryFlagFollowsFirstInput()
    {
        var bin = TensorRequest.Read(TensorPayloads.RequestBytes([("a", [2, 3], TensorPayloads.Bytes(Six)), ("b", [2, 3], Six)]), _add);
        var array = TensorRequest.Read(TensorPayloads.RequestBytes([("a", [2, 3], Six), ("b", [2, 3], Convert.ToBase64String(TensorPayloads.Bytes(Six)))]), _add);

        Assert.True(bin.Binary);
        Assert.False(array.Binary);
        Assert.All(bin.Inputs.Concat(array.Inputs), t => Assert.Equal(Six, t.Data));
        Assert.Equal(["a", "b"], bin.Inputs.Select(t => t.Name));
        Assert.Equal(["sum"], bin.Outputs);
        Assert.Equal(2, bin.Rows);
    }

    [Fact]
    public void Read_JsonPayloadWithIntegersAndCaseInsensitiveKeys_Converted()
    {
        var json = JsonSerializer.SerializeToElement(new
        {
            Inputs = new Dictionary<string, object>
            {
                ["b"] = new { Shape = new[] { 1, 3 }, Data = new object[] { 1, 2.5, -3 } },
                ["a"] = new { shape = new[] { 1, 3 }, data = new[] { 0, 0, 0 } },
            },
            Outputs = new[] { "sum" },
        });

        var request = TensorRequest.Read(TaskPayload.FromJson(json), _add);

        Assert.Equal(["a", "b"], request.Inputs.Select(t => t.Name)); // the model's order
        Assert.Equal([1f, 2.5f, -3f], request.Inputs[1].Data);
        Assert.False(request.Binary);
    }

    public static TheoryData<string, byte[]> BadPayloads()
    {
        byte[] Bytes(params (string, long[], object)[] inputs) => TensorPayloads.RequestBytes(inputs);
        byte[] good = TensorPayloads.Bytes(Six);
        return new TheoryData<string, byte[]>
        {
            { TensorErrorCodes.InvalidPayload, MessagePackSerializer.Serialize(new[] { 1, 2 }) },
            { TensorErrorCodes.InvalidPayload, MessagePackSerializer.Serialize(new Dictionary<string, object> { ["input"] = 1 }) },
            { TensorErrorCodes.InvalidPayload, MessagePackSerializer.Serialize(new Dictionary<string, object> { ["inputs"] = new[] { 1 } }) },
            { TensorErrorCodes.MissingInput, Bytes(("a", [2, 3], good)) },
            { TensorErrorCodes.MissingInput, MessagePackSerializer.Serialize(new Dictionary<string, object> { ["inputs"] = new Dictionary<string, object>() }) },
            { TensorErrorCodes.UnknownInput, Bytes(("a", [2, 3], good), ("b", [2, 3], good), ("c", [2, 3], good)) },
            { TensorErrorCodes.ShapeMismatch, Bytes(("a", [6], good), ("b", [2, 3], good)) },
            { TensorErrorCodes.ShapeMismatch, Bytes(("a", [3, 2], good), ("b", [2, 3], good)) },
            { TensorErrorCodes.DataLengthMismatch, Bytes(("a", [2, 3], good[..20]), ("b", [2, 3], good)) },
            { TensorErrorCodes.DataLengthMismatch, Bytes(("a", [2, 3], new float[5]), ("b", [2, 3], good)) },
            { TensorErrorCodes.DataLengthMismatch, Bytes(("a", [1, 3], good), ("b", [2, 3], good)) },
            { TensorErrorCodes.InvalidTensor, Bytes(("a", [0, 3], Array.Empty<byte>()), ("b", [2, 3], good)) },
            { TensorErrorCodes.InvalidTensor, Bytes(("a", [2, 3], "%%% not base64"), ("b", [2, 3], good)) },
            { TensorErrorCodes.InvalidTensor, Bytes(("a", [2, 3], new object[] { 1, 2, 3, "x", 5, 6 }), ("b", [2, 3], good)) },
            { TensorErrorCodes.InvalidTensor, Bytes(("a", [2, 3], true), ("b", [2, 3], good)) },
            { TensorErrorCodes.InvalidTensor, Bytes(("a", [1_000_000, 1_000_000], good), ("b", [2, 3], good)) },
            { TensorErrorCodes.UnknownOutput, TensorPayloads.RequestBytes([("a", [2, 3], good), ("b", [2, 3], good)], ["sum", "product"]) },
            { TensorErrorCodes.InvalidPayload, TensorPayloads.RequestBytes([("a", [2, 3], good), ("b", [2, 3], good)], []) },
        };
    }

    [Theory]
    [MemberData(nameof(BadPayloads))]
    public void Read_BadTensor_AgentTaskExceptionWithCode(string code, byte[] payload)
    {
        var error = Assert.Throws<AgentTaskException>(() => TensorRequest.Read(payload, _add));

        Assert.Equal(code, error.Code);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Fact]
    public void Read_TensorWithoutData_InvalidTensorNamingIt()
    {
        byte[] payload = MessagePackSerializer.Serialize(new Dictionary<string, object>
        {
            ["inputs"] = new Dictionary<string, object> { ["a"] = new Dictionary<string, object> { ["shape"] = new[] { 2, 3 } } },
        });

        var error = Assert.Throws<AgentTaskException>(() => TensorRequest.Read(payload, _add));

        Assert.Equal((TensorErrorCodes.InvalidTensor, "input 'a' needs both 'shape' and 'data'"), (error.Code, error.Message));
    }

    [Fact]
    public void Rows_InputsDisagreeOnFirstDimension_Null()
    {
        var request = TensorRequest.Read(TensorPayloads.RequestBytes([("a", [2, 3], Six), ("b", [1, 3], new float[3])]), _add);

        Assert.Null(request.Rows);
    }

    [Fact]
    public void Read_NoPayload_InvalidPayload()
    {
        var error = Assert.Throws<AgentTaskException>(() => TensorRequest.Read((TaskPayload?)null, _add));

        Assert.Equal(TensorErrorCodes.InvalidPayload, error.Code);
    }
}
