using Aicp.SampleAgents.Labelling;
using Aicp.SampleAgents.Labelling.Inference;

namespace Aicp.Tests.SampleAgents.Labelling;

public sealed class InferenceBackendsTests
{
    private static bool CudaPresent => System.Runtime.InteropServices.NativeLibrary.TryLoad("libcuda.so.1", out _);

    [Fact]
    public void LoadDefault_AutoWithoutDriver_FallsBackToCpuAndSaysWhy()
    {
        using var labeller = DigitLabeller.LoadDefault(InferenceBackends.Auto, out var note);
        if (CudaPresent)
        {
            Assert.Contains("cuda", note);
            return;
        }

        Assert.Equal(InferenceBackends.Cpu, labeller.BackendName);
        Assert.Contains("libcuda.so.1", note);
    }

    [Fact]
    public void LoadDefault_CudaRequestedWithoutDriver_ClearError()
    {
        if (CudaPresent)
        {
            using var gpu = DigitLabeller.LoadDefault(InferenceBackends.Cuda, out _);
            Assert.Equal(InferenceBackends.Cuda, gpu.BackendName);
            return;
        }

        var error = Assert.Throws<InvalidOperationException>(() => DigitLabeller.LoadDefault(InferenceBackends.Cuda, out _));
        Assert.Contains("CUDA backend is not available", error.Message);
    }

    [Fact]
    public void LoadDefault_UnknownDevice_ArgumentException()
    {
        Assert.Throws<ArgumentException>(() => DigitLabeller.LoadDefault("tpu", out _));
    }

    [Fact]
    public void SelfTest_CpuAgainstCpu_PassesWithZeroDifference()
    {
        var output = new StringWriter();
        Assert.Equal(0, LabellerSelfTest.Run(InferenceBackends.Cpu, output));
        Assert.Contains("max |p_cpu - p_cpu| = 0.000E+000", output.ToString());
        Assert.Contains("top-1 agreement 1000/1000", output.ToString());
    }

    [Fact]
    public void SelfTest_CudaUnavailable_FailsWithReason()
    {
        if (CudaPresent)
        {
            return; // on a GPU machine the self-test is the real check, run by hand
        }

        var output = new StringWriter();
        Assert.Equal(1, LabellerSelfTest.Run(InferenceBackends.Cuda, output));
        Assert.Contains("self-test FAILED", output.ToString());
    }
}
