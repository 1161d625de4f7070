using Aicp.SampleAgents.Onnx;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Aicp.Tests.SampleAgents.Onnx;

public class OnnxModelTests
{
    [Fact]
    public void Load_ShippedCnn_DeclaresDigitsInputAndLogitsAndBatchesAlongN()
    {
        using var model = OnnxModel.Load(TestModels.ShippedCnn);

        Assert.Equal("digits.onnx", model.Name);
        Assert.Equal(InferenceDevices.Cpu, model.Provider);
        Assert.Equal("input float32 [N,1,28,28]", Assert.Single(model.Inputs).ToString());
        Assert.Equal("logits float32 [N,10]", Assert.Single(model.Outputs).ToString());
        Assert.True(model.BatchesAlongFirstDimension);
        Assert.StartsWith("conv5x5x", model.Metadata["architecture"]);
    }

    [Fact]
    public void Load_TrainerMlp_OtherNamesAndShapes()
    {
        using var model = OnnxModel.Load(TestModels.Mlp);

        Assert.Equal("pixels float32 [N,784]", Assert.Single(model.Inputs).ToString());
        Assert.Equal("probabilities float32 [N,10]", Assert.Single(model.Outputs).ToString());
    }

    [Fact]
    public void Load_FixedFirstDimension_DoesNotBatch()
    {
        using var model = OnnxModel.Load(TestModels.FixedRelu);

        Assert.False(model.BatchesAlongFirstDimension);
        Assert.Equal("x float32 [2,3]", model.Inputs[0].ToString());
    }

    [Fact]
    public void Load_AutoWithoutCudaProvider_RunsOnCpuAndLogsOneWarningWithTheReason()
    {
        using var logs = new CapturingLoggerProvider(LogLevel.Information);
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Information));

        using var model = OnnxModel.Load(TestModels.ShippedCnn, InferenceDevices.Auto, factory.CreateLogger("onnx"));

        if (model.Provider == InferenceDevices.Cuda)
        {
            return; // a machine with the CUDA build and a GPU: nothing fell back
        }

        Assert.Equal(InferenceDevices.Cpu, model.Provider);
        var warning = Assert.Single(logs.Entries, e => e.Level == LogLevel.Warning);
        Assert.Contains("CUDA execution provider not loaded, so digits.onnx runs on the CPU: ", warning.Message);
        Assert.Contains("CUDA did not load", model.DeviceNote);

        // docs/LABELLER.md shows the line the GPU build logs: this category, event id and message up to the reason
        var documented = Aicp.Tests.Docs.Markdown.Read("docs/LABELLER.md").Blocks().Single(b => b.Text.StartsWith("warn: ", StringComparison.Ordinal)).Text;
        Assert.StartsWith($"warn: {typeof(OnnxModel).Namespace}[{warning.EventId.Id}] {warning.Message[..(warning.Message.IndexOf(": ", StringComparison.Ordinal) + 2)]}", documented);
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Information && e.Message.StartsWith("Model digits.onnx runs on cpu", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_CudaRequestedWhereItDoesNotLoad_InvalidOperationWithReason()
    {
        try
        {
            using var model = OnnxModel.Load(TestModels.ShippedCnn, InferenceDevices.Cuda);
            Assert.Equal(InferenceDevices.Cuda, model.Provider); // only where the CUDA provider loads
        }
        catch (InvalidOperationException ex)
        {
            Assert.StartsWith("The CUDA execution provider did not load: ", ex.Message);
        }
    }

    [Fact]
    public void Shorten_CudaProviderLoadError_NamesTheMissingLibraryWithoutPaths()
    {
        const string line = "/onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:2043 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() " +
                            "[ONNXRuntimeError] : 1 : FAIL : Failed to load library /app/runtimes/linux-x64/native/libonnxruntime_providers_cuda.so " +
                            "with error: libcublasLt.so.13: cannot open shared object file: No such file or directory";

        Assert.Equal("Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file: No such file or directory",
            OnnxRuntimeLog.Shorten(line));
        Assert.Equal("no GPU found", OnnxRuntimeLog.Shorten(" no GPU found "));
    }

    [Fact]
    public void Load_UnknownDevice_ArgumentException()
    {
        Assert.Throws<ArgumentException>(() => OnnxModel.Load(TestModels.ShippedCnn, "tpu"));
    }

    [Fact]
    public void Load_Int64Input_RefusedNamingTheInput()
    {
        var error = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(TestModels.Int64Input));

        Assert.Contains("input 'ids' is Int64; only float32 tensors are served", error.Message);
    }

    [Fact]
    public void Load_NotAModelOrMissing_TypedErrors()
    {
        Assert.Throws<InvalidDataException>(() => OnnxModel.Load(TestModels.NotAModel));
        Assert.Throws<FileNotFoundException>(() => OnnxModel.Load(Path.Combine(Path.GetTempPath(), "no-such-model.onnx")));
    }

    [Fact]
    public void Run_CountsRunsAndReturnsRequestedOutputsInOrder()
    {
        using var model = OnnxModel.Load(TestModels.TwoInputAdd);

        var outputs = model.Run([new FloatTensor("a", [2, 3], [1, 2, 3, 4, 5, 6]), new FloatTensor("b", [2, 3], [1, 1, 1, 1, 1, 1])]);

        Assert.Equal(1, model.RunCount);
        var sum = Assert.Single(outputs);
        Assert.Equal("sum", sum.Name);
        Assert.Equal([2L, 3L], sum.Shape);
        Assert.Equal([2f, 3, 4, 5, 6, 7], sum.Data);
    }
}
