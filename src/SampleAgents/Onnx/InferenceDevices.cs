namespace Aicp.SampleAgents.Onnx;

/// <summary>The values of <c>--device</c>: where ONNX Runtime runs a model.</summary>
public static class InferenceDevices
{
    /// <summary>The CUDA execution provider when it loads, otherwise the CPU (with a log line saying why).</summary>
    public const string Auto = "auto";

    /// <summary>ONNX Runtime's CPU execution provider.</summary>
    public const string Cpu = "cpu";

    /// <summary>The CUDA execution provider, or an error when it does not load.</summary>
    public const string Cuda = "cuda";

    public static IReadOnlyList<string> All { get; } = [Auto, Cpu, Cuda];
}
