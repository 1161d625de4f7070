using Aicp.SampleAgents.Cli;
using Aicp.SampleAgents.Demo;
using Aicp.SampleAgents.Labelling;

const string Usage = """
    Usage: Aicp.SampleAgents <command> [options]
    (labelee, swarm and submit take --token KEY when the hub requires an API key or JWT)

      demo [--quick] [--tasks N] [--concurrency C]
          Embedded hub + three labelees; every strategy compared; one agent killed midway.
      labelee --hub URL --id ID [--delay-ms N] [--jitter-ms N] [--fail-rate P] [--concurrency N] [--device auto|cpu|cuda] [--protocol json|messagepack] [--batch N]
          One image.label agent (the digit labeller; CUDA when the NVIDIA driver loads, else CPU).
      labelee --self-test [--device cuda]
          Compares the chosen backend with the CPU backend on 1,000 digits; prints the largest difference and throughput.
      swarm --hub URL [--count N] [--device D] [--protocol P]
          N labelees with different speeds and reliabilities in one process.
      submit --hub URL [--method M] [--count N] [--concurrency C] [--strategy S] [--timeout-ms T] [--max-attempts A] [--protocol P] [--json]
          Submits tasks and prints a summary (JSON with --json).
      train [--data DIR] [--out FILE] [--epochs N] [--seed S]
          Trains the digit labeller on MNIST (run scripts/fetch-mnist.sh first).
      evaluate [--data DIR] [--model FILE] [--bench]
          Accuracy of a weights file on the held-out digits; --bench measures images/s single vs batched.
    """;

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

if (args[0] is "train" or "evaluate")
{
    return args[0] == "train" ? await LabellingCommands.TrainAsync(args[1..]) : await LabellingCommands.EvaluateAsync(args[1..]);
}

try
{
    var options = new CommandArgs(args.Skip(1));
    return args[0] switch
    {
        "demo" => await DemoCommand.RunAsync(options, stop.Token),
        "labelee" => await Commands.LabeleeAsync(options, stop.Token),
        "swarm" => await Commands.SwarmAsync(options, stop.Token),
        "submit" => await Commands.SubmitAsync(options, stop.Token),
        _ => throw new UsageException($"Unknown command '{args[0]}'."),
    };
}
catch (UsageException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    return 130;
}
