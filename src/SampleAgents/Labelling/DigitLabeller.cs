using System.Buffers;
using System.Numerics.Tensors;
using Aicp.SampleAgents.Labelling.Export;
using Aicp.SampleAgents.Labelling.Imaging;
using Aicp.SampleAgents.Onnx;
using Microsoft.Extensions.Logging;

namespace Aicp.SampleAgents.Labelling;

/// <summary>
/// Labels 28x28 handwritten digits with an ONNX model run by ONNX Runtime: by default the CNN shipped as
/// <c>models/digits.onnx</c> (input <c>input</c> float32 [N,1,28,28] in [0, 1], output <c>logits</c> float32 [N,10]).
/// An image is either 784 raw grey bytes (row-major, 0 = background, white digit on black as in MNIST) or a 28x28 PNG
/// (8-bit grey, grey+alpha, RGB or RGBA, non-interlaced). Anything else throws <see cref="InvalidImageException"/>.
/// Thread-safe: ONNX Runtime sessions accept concurrent runs and every call uses its own buffers.
/// </summary>
public sealed class DigitLabeller : IDisposable
{
    public const int ImageSide = ImageInput.Side;
    public const int PixelCount = ImageInput.PixelCount;
    public const int ClassCount = 10;

    /// <summary>Where the shipped model is copied, relative to the application's base directory.</summary>
    public static readonly string DefaultModelRelativePath = Path.Combine("models", "digits.onnx");

    private static readonly string[] LabelNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    private static readonly long[] InputDimensions = [-1, 1, ImageSide, ImageSide];
    private static readonly long[] OutputDimensions = [-1, ClassCount];
    private readonly string[] _output = [OnnxExport.CnnOutput];

    private DigitLabeller(OnnxModel model) => Model = model;

    /// <summary>The model and the execution provider it runs on.</summary>
    public OnnxModel Model { get; }

    /// <summary>The execution provider: "cpu" or "cuda".</summary>
    public string Provider => Model.Provider;

    /// <summary>The network's layers as the model file records them (e.g. <c>conv5x5x16-pool-conv5x5x32-pool-128-10</c>), else the file name.</summary>
    public string Architecture => Model.Metadata.TryGetValue(OnnxExport.ArchitectureKey, out var architecture) ? architecture : Model.Name;

    /// <summary>Model, architecture and provider in one line, e.g. <c>digits.onnx conv5x5x16-...-10 (cpu)</c>.</summary>
    public string Description => $"{Model.Name} {Architecture} ({Provider})";

    /// <summary>Loads the shipped model (<see cref="DefaultModelRelativePath"/>) on the CPU.</summary>
    public static DigitLabeller LoadDefault() => LoadDefault(InferenceDevices.Cpu);

    /// <summary>Loads the shipped model (<see cref="DefaultModelRelativePath"/>) on <paramref name="device"/> (<see cref="InferenceDevices"/>).</summary>
    public static DigitLabeller LoadDefault(string device, ILogger? logger = null) =>
        Load(Path.Combine(AppContext.BaseDirectory, DefaultModelRelativePath), device, logger);

    /// <summary>Loads a digits model: one input <c>input</c> [N,1,28,28] and an output <c>logits</c> [N,10], float32.</summary>
    /// <exception cref="InvalidDataException">Not such a model.</exception>
    public static DigitLabeller Load(string path, string device = InferenceDevices.Cpu, ILogger? logger = null)
    {
        var model = OnnxModel.Load(path, device, logger);
        bool fits = model.Inputs is [{ Name: OnnxExport.CnnInput } input] && input.Dimensions.SequenceEqual(InputDimensions)
                    && model.Outputs.Any(o => o.Name == OnnxExport.CnnOutput && o.Dimensions.SequenceEqual(OutputDimensions));
        if (!fits)
        {
            model.Dispose();
            throw new InvalidDataException(
                $"{path} is not a digits model: it takes {string.Join("; ", model.Inputs)} and gives {string.Join("; ", model.Outputs)}; " +
                $"expected {OnnxExport.CnnInput} float32 [N,1,28,28] and {OnnxExport.CnnOutput} float32 [N,10].");
        }

        return new DigitLabeller(model);
    }

    /// <summary>Classifies one image and returns the <paramref name="topK"/> most likely labels, most likely first.</summary>
    /// <exception cref="InvalidImageException">The image cannot be read.</exception>
    public IReadOnlyList<LabelPrediction> Classify(ReadOnlySpan<byte> image, int topK = 3)
    {
        ValidateTopK(topK);
        Span<byte> pixels = stackalloc byte[PixelCount];
        ImageInput.ToPixels(image, pixels);
        Span<float> logits = stackalloc float[ClassCount];
        Logits(pixels, 1, logits);
        return TopK(logits, topK);
    }

    /// <summary>
    /// Classifies a batch in one model run (cheaper per image than single calls). Results are in input order.
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
        float[] logits = ArrayPool<float>.Shared.Rent(batch * ClassCount);
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

            Logits(pixels.AsSpan(0, batch * PixelCount), batch, logits);
            var results = new IReadOnlyList<LabelPrediction>[batch];
            for (int i = 0; i < batch; i++)
            {
                results[i] = TopK(logits.AsSpan(i * ClassCount, ClassCount), topK);
            }

            return results;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(pixels);
            ArrayPool<float>.Shared.Return(logits);
        }
    }

    /// <summary>The model's logits for <paramref name="batch"/> images of 784 grey bytes each, in one run (evaluation and benchmarks).</summary>
    internal void Logits(ReadOnlySpan<byte> pixels, int batch, Span<float> logits)
    {
        var input = new float[batch * PixelCount];
        ImageInput.ToInput(pixels[..(batch * PixelCount)], input);
        FloatTensor output = Model.Run([new FloatTensor(OnnxExport.CnnInput, [batch, 1, ImageSide, ImageSide], input)], _output)[0];
        output.Data.AsSpan(0, batch * ClassCount).CopyTo(logits);
    }

    /// <summary>The share of <paramref name="labels"/> whose image (784 grey bytes each in <paramref name="pixels"/>) gets the right top label, in runs of 256.</summary>
    internal (int Correct, int Total) Score(ReadOnlySpan<byte> pixels, ReadOnlySpan<byte> labels)
    {
        const int chunk = 256;
        var logits = new float[chunk * ClassCount];
        int correct = 0;
        for (int start = 0; start < labels.Length; start += chunk)
        {
            int batch = Math.Min(chunk, labels.Length - start);
            Logits(pixels.Slice(start * PixelCount, batch * PixelCount), batch, logits);
            for (int i = 0; i < batch; i++)
            {
                if (TensorPrimitives.IndexOfMax(logits.AsSpan(i * ClassCount, ClassCount)) == labels[start + i]) correct++;
            }
        }

        return (correct, labels.Length);
    }

    public void Dispose() => Model.Dispose();

    private static IReadOnlyList<LabelPrediction> TopK(ReadOnlySpan<float> logits, int k)
    {
        Span<float> probabilities = stackalloc float[ClassCount];
        TensorPrimitives.SoftMax(logits, probabilities);
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
