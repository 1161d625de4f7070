using System.Diagnostics;
using Aicp.SampleAgents.Labelling.Data;
using Aicp.SampleAgents.Labelling.Inference;
using Aicp.SampleAgents.Labelling.Model;

namespace Aicp.SampleAgents.Labelling;

/// <summary>
/// <c>labelee --self-test --device D</c>: runs the chosen backend and the CPU backend on the same 1,000 digits
/// (held-out MNIST when installed, else synthetic images), prints the largest probability difference and each
/// backend's throughput, and fails when they disagree by more than <see cref="Tolerance"/>.
/// </summary>
internal static class LabellerSelfTest
{
    public const int Images = 1000;
    public const float Tolerance = 1e-3f;
    private const int Batch = 100;

    public static int Run(string device, TextWriter output)
    {
        var model = ModelFile.Read(Path.Combine(AppContext.BaseDirectory, DigitLabeller.DefaultModelRelativePath));
        IInferenceBackend candidate;
        string note;
        try
        {
            candidate = InferenceBackends.Create(model, device, out note);
        }
        catch (InvalidOperationException ex)
        {
            output.WriteLine($"self-test FAILED: {ex.Message}");
            return 1;
        }

        using (candidate)
        using (var reference = new CpuInferenceBackend(model))
        {
            var (inputs, source) = LoadInputs();
            var expected = new float[Images * model.OutputSize];
            var actual = new float[Images * model.OutputSize];
            var referenceRate = Measure(reference, inputs, expected);
            var candidateRate = Measure(candidate, inputs, actual);

            var maxDiff = 0f;
            var agree = 0;
            for (var i = 0; i < Images; i++)
            {
                var e = expected.AsSpan(i * model.OutputSize, model.OutputSize);
                var a = actual.AsSpan(i * model.OutputSize, model.OutputSize);
                for (var k = 0; k < model.OutputSize; k++)
                {
                    maxDiff = Math.Max(maxDiff, Math.Abs(e[k] - a[k]));
                }

                agree += ArgMax(e) == ArgMax(a) ? 1 : 0;
            }

            output.WriteLine($"backend: {candidate.Name} ({note}); inputs: {Images} {source}");
            output.WriteLine($"max |p_{candidate.Name} - p_cpu| = {maxDiff:E3}; top-1 agreement {agree}/{Images}");
            output.WriteLine($"throughput (batches of {Batch}): {candidate.Name} {candidateRate:F0} images/s, cpu {referenceRate:F0} images/s");
            var ok = maxDiff <= Tolerance && agree == Images;
            output.WriteLine(ok ? "self-test PASSED" : $"self-test FAILED: difference above {Tolerance:E0} or top-1 disagreement");
            return ok ? 0 : 1;
        }
    }

    private static (float[] Inputs, string Source) LoadInputs()
    {
        var inputs = new float[Images * DigitLabeller.PixelCount];
        if (MnistLocator.TryFind() is { } directory)
        {
            var data = MnistDataset.Load(directory);
            for (var i = 0; i < Images; i++)
            {
                var image = data.Image(data.TestIndices[i % data.TestIndices.Length]);
                for (var p = 0; p < image.Length; p++)
                {
                    inputs[i * DigitLabeller.PixelCount + p] = image[p] / 255f;
                }
            }

            return (inputs, "held-out MNIST digits");
        }

        var random = new Random(1);
        for (var i = 0; i < inputs.Length; i++)
        {
            inputs[i] = random.Next(256) / 255f;
        }

        return (inputs, "synthetic images (MNIST not installed)");
    }

    private static double Measure(IInferenceBackend backend, float[] inputs, float[] output)
    {
        var classes = output.Length / Images;
        var watch = Stopwatch.StartNew();
        for (var start = 0; start < Images; start += Batch)
        {
            backend.Forward(inputs.AsSpan(start * DigitLabeller.PixelCount, Batch * DigitLabeller.PixelCount), Batch,
                output.AsSpan(start * classes, Batch * classes));
        }

        return Images / watch.Elapsed.TotalSeconds;
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
