using Aicp.SampleAgents.Labelling.Model;

namespace Aicp.SampleAgents.Labelling.Inference;

/// <summary>Chooses the inference backend at run time: <c>cuda</c>, <c>cpu</c>, or <c>auto</c> (CUDA when the driver loads, else CPU).</summary>
public static class InferenceBackends
{
    public const string Auto = "auto";
    public const string Cpu = CpuInferenceBackend.BackendName;
    public const string Cuda = CudaInferenceBackend.BackendName;

    /// <summary>Creates the backend for <paramref name="device"/>; <c>cuda</c> throws with the reason when no GPU is usable.</summary>
    internal static IInferenceBackend Create(MlpModel model, string device, out string note)
    {
        switch (device)
        {
            case Cpu:
                note = "cpu requested";
                return new CpuInferenceBackend(model);
            case Cuda:
                note = "cuda requested";
                return CudaInferenceBackend.TryCreate(model, out var reason)
                    ?? throw new InvalidOperationException($"The CUDA backend is not available: {reason}.");
            case Auto:
                if (CudaInferenceBackend.TryCreate(model, out var why) is { } cuda)
                {
                    note = $"cuda on {cuda.DeviceName}";
                    return cuda;
                }

                note = $"cpu ({why})";
                return new CpuInferenceBackend(model);
            default:
                throw new ArgumentException($"Unknown device '{device}'; use {Auto}, {Cpu} or {Cuda}.", nameof(device));
        }
    }
}
