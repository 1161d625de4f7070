using System.Buffers;
using Aicp.SampleAgents.Labelling.Imaging;
using Aicp.SampleAgents.Labelling.Inference;
using Aicp.SampleAgents.Labelling.Model;

namespace Aicp.SampleAgents.Labelling;

/// <summary>
/// Labels 28x28 handwritten digits with a small MLP trained on MNIST.
/// An image is either 784 raw grey bytes (row-major, 0 = background, white digit on black as in MNIST) or a
/// 28x28 PNG (8-bit grey, grey+alpha, RGB or RGBA, non-interlaced). Anything else throws
/// <see cref="InvalidImageException"/>.
/// Thread-safe: the weights are read-only after loading and every call uses its own scratch memory.
/// </summary>
public sealed class DigitLabeller : IDisposable
{
    public const int ImageSide = ImageInput.Side;
    public const int PixelCount = ImageInput.PixelCount;
    public const int ClassCount = 10;

    /// <summary>Where the shipped weights are copied, relative to the application's base directory.</summary>
    public static readonly string DefaultModelRelativePath = Path.Combine("Labelling", "Model", "mnist-mlp.bin");

    private static readonly string[] LabelNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    private readonly IInferenceBackend _backend;

    internal DigitLabeller(MlpModel model, IInferenceBackend? backend = null)
    {
        if (model.InputSize != PixelCount || model.OutputSize != ClassCount)
        {
            throw new ArgumentException($"Model {model.Architecture} does not map {PixelCount} pixels to {ClassCount} classes.", nameof(model));
        }
        Model = model;
        _backend = backend ?? new CpuInferenceBackend(model);
    }

    /// <summary>Name of the backend running inference ("cpu" unless an accelerator was chosen).</summary>
    public string BackendName => _backend.Name;

    /// <summary>Layer widths, e.g. "784-256-10".</summary>
    public string Architecture => Model.Architecture;

    internal MlpModel Model { get; }

    /// <summary>Loads the weights shipped with the application (<see cref="DefaultModelRelativePath"/>).</summary>
    public static DigitLabeller LoadDefault() => Load(Path.Combine(AppContext.BaseDirectory, DefaultModelRelativePath));

    /// <summary>
    /// Loads the shipped weights onto <paramref name="device"/>: <c>auto</c> (CUDA when libcuda.so.1 loads, else CPU),
    /// <c>cpu</c> or <c>cuda</c>. <paramref name="note"/> says what was chosen and why.
    /// </summary>
    public static DigitLabeller LoadDefault(string device, out string note)
    {
        var model = ModelFile.Read(Path.Combine(AppContext.BaseDirectory, DefaultModelRelativePath));
        return new DigitLabeller(model, Inference.InferenceBackends.Create(model, device, out note));
    }

    /// <summary>Loads a weights file written by <see cref="TrainCommand"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid weights file.</exception>
    public static DigitLabeller Load(string path) => new(ModelFile.Read(path));

    /// <summary>Classifies one image and returns the <paramref name="topK"/> most likely labels, most likely first.</summary>
    /// <exception cref="InvalidImageException">The image cannot be read.</exception>
    public IReadOnlyList<LabelPrediction> Classify(ReadOnlySpan<byte> image, int topK = 3)
    {
        ValidateTopK(topK);
        Span<byte> pixels = stackalloc byte[PixelCount];
        ImageInput.ToPixels(image, pixels);
        Span<float> input = stackalloc float[PixelCount];
        ImageInput.ToInput(pixels, input);
        Span<float> probabilities = stackalloc float[ClassCount];
        _backend.Forward(input, 1, probabilities);
        return TopK(probabilities, topK);
    }

    /// <summary>
    /// Classifies a batch in one forward pass (cheaper per image than single calls). Results are in input order.
    /// If any image is invalid, nothing is classified and the exception's <see cref="InvalidImageException.BatchIndex"/> says which.
    /// </summary>
    /// <exception cref="InvalidImageException">An image cannot be read.</exception>
    public IReadOnlyList<IReadOnlyList<LabelPrediction>> Classify(IReadOnlyList<ReadOnlyMemory<byte>> images, int topK = 3)
    {
        ArgumentNullException.ThrowIfNull(images);
        ValidateTopK(topK);
        if (images.Count == 0) return [];

        int batch = images.Count;
        byte[] pixels = ArrayPool<byte>.Shared.Rent(batch * PixelCount);
        float[] probabilities = ArrayPool<float>.Shared.Rent(batch * ClassCount);
        try
        {
            for (int i = 0; i < batch; i++)
            {
                try
                {
                    ImageInput.ToPixels(images[i].Span, pixels.AsSpan(i * PixelCount, PixelCount));
                }
                catch (InvalidImageException ex)
                {
                    throw ex.WithBatchIndex(i);
                }
            }
            ClassifyPixels(pixels.AsSpan(0, batch * PixelCount), batch, probabilities);

            var results = new IReadOnlyList<LabelPrediction>[batch];
            for (int i = 0; i < batch; i++)
            {
                results[i] = TopK(probabilities.AsSpan(i * ClassCount, ClassCount), topK);
            }
            return results;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(pixels);
            ArrayPool<float>.Shared.Return(probabilities);
        }
    }

    /// <summary>Raw probabilities for <paramref name="batch"/> images of 784 grey bytes each (evaluation and benchmarks).</summary>
    internal void ClassifyPixels(ReadOnlySpan<byte> pixels, int batch, Span<float> probabilities)
    {
        float[] input = ArrayPool<float>.Shared.Rent(batch * PixelCount);
        try
        {
            ImageInput.ToInput(pixels[..(batch * PixelCount)], input);
            _backend.Forward(input.AsSpan(0, batch * PixelCount), batch, probabilities);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(input);
        }
    }

    public void Dispose() => _backend.Dispose();

    private static IReadOnlyList<LabelPrediction> TopK(ReadOnlySpan<float> probabilities, int k)
    {
        Span<int> order = stackalloc int[ClassCount];
        for (int i = 0; i < ClassCount; i++) order[i] = i;
        // Ten classes: an insertion sort by descending probability (ties keep the lower digit first).
        for (int i = 1; i < ClassCount; i++)
        {
            int current = order[i];
            int j = i - 1;
            while (j >= 0 && probabilities[order[j]] < probabilities[current])
            {
                order[j + 1] = order[j];
                j--;
            }
            order[j + 1] = current;
        }

        var result = new LabelPrediction[k];
        for (int i = 0; i < k; i++)
        {
            result[i] = new LabelPrediction(LabelNames[order[i]], probabilities[order[i]]);
        }
        return result;
    }

    private static void ValidateTopK(int topK)
    {
        if (topK is < 1 or > ClassCount)
        {
            throw new ArgumentOutOfRangeException(nameof(topK), topK, $"topK must be between 1 and {ClassCount}.");
        }
    }
}
