namespace Aicp.SampleAgents.Labelling.Inference;

/// <summary>
/// Runs the network's forward pass for a batch. Implementations are bound to one model when created and
/// must be safe to call from many threads at once (no per-call state in fields).
/// The CPU backend is the tested default; an accelerator backend may be chosen at run time when present.
/// </summary>
public interface IInferenceBackend : IDisposable
{
    /// <summary>Short name for logs and diagnostics, e.g. "cpu".</summary>
    string Name { get; }

    /// <summary>
    /// <paramref name="input"/> holds <paramref name="batch"/> images of 784 floats in [0, 1], row-major;
    /// <paramref name="probabilities"/> receives <paramref name="batch"/> rows of 10 softmax probabilities.
    /// </summary>
    void Forward(ReadOnlySpan<float> input, int batch, Span<float> probabilities);
}
