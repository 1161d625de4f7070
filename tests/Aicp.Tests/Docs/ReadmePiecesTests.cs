using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Docs;

/// <summary>
/// README.md's "Running the pieces separately", command by command, as separate programs: the same programs (their built
/// dlls instead of <c>dotnet run</c>, which would build them again) with the same arguments, on free ports instead of
/// 5000 and 6000.
/// </summary>
[Collection(SoloCollection.Name)] // seven processes at once
public sealed class ReadmePiecesTests
{
    private static readonly TimeSpan ProgramStart = TimeSpan.FromSeconds(90);


    /// <summary>The program and arguments of a documented <c>dotnet run --project src/X [-- args]</c> line, with the ports replaced.</summary>
    private static (string Dll, string[] Args) Program(string command, int hubPort, int otherPort)
    {
        var parts = command.Replace("127.0.0.1:5000", $"127.0.0.1:{hubPort}", StringComparison.Ordinal)
            .Replace("127.0.0.1:6000", $"127.0.0.1:{otherPort}", StringComparison.Ordinal).Split(" -- ", 2);
        var dll = parts[0] switch
        {
            "dotnet run --project src/Hub" => ProgramProcess.Hub,
            "dotnet run --project src/SampleAgents" => ProgramProcess.SampleAgents,
            var other => throw new Xunit.Sdk.XunitException($"README runs {other}, which this test does not know"),
        };
        return (dll, parts.Length > 1 ? parts[1].Split(' ') : []);
    }

    [Fact]
    public async Task RunningThePiecesSeparately_AsDocumented_TasksComplete()
    {
        var readme = Markdown.Read("README.md");
        var block = readme.Blocks().Single(b => b.Text.StartsWith("# 1. the hub", StringComparison.Ordinal));
        var commands = DocCommandsTests.BlockCommands(block.Text).ToList();
        Assert.Equal(7, commands.Count);
        var (hubPort, otherPort) = (LoopbackPort.Free(), LoopbackPort.Free());
        var running = new List<ProgramProcess>();
        try
        {
            // 1. the hub, on the address its documented default is replaced by (ASPNETCORE_URLS, as the README's table says)
            var (hubDll, hubArgs) = Program(commands[0], hubPort, otherPort);
            var hub = ProgramProcess.Start(hubDll, hubArgs, new Dictionary<string, string> { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{hubPort}" });
            running.Add(hub);
            await hub.WaitForOutputAsync($"Now listening on: http://127.0.0.1:{hubPort}", ProgramStart);

            // ... or on another address
            var (otherDll, otherArgs) = Program(commands[1], hubPort, otherPort);
            await using (var other = ProgramProcess.Start(otherDll, otherArgs))
            {
                await other.WaitForOutputAsync($"Now listening on: http://127.0.0.1:{otherPort}", ProgramStart);
                using var http = new HttpClient();
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{otherPort}/healthz").DefaultTimeout()).StatusCode);
                other.Signal(PosixSignal.SIGTERM);
                Assert.Equal(0, await other.WaitForExitAsync());
            }

            // 2. agents: two labelees and a swarm of eight
            var agents = commands[2..5].Select(c => Program(c, hubPort, otherPort)).Select(p => ProgramProcess.Start(p.Dll, p.Args)).ToList();
            running.AddRange(agents);
            await agents[0].WaitForOutputAsync("1 agent(s) registered", ProgramStart);
            await agents[1].WaitForOutputAsync("1 agent(s) registered", ProgramStart);
            await agents[2].WaitForOutputAsync("8 agent(s) registered", ProgramStart);

            // 3. submitters: a table, then JSON with the fields the README lists
            var (dll, args) = Program(commands[5], hubPort, otherPort);
            var table = await ProgramProcess.RunAsync(dll, args, within: ProgramStart);
            Assert.True(table.ExitCode == 0, table.StandardOutput + table.StandardError);
            Assert.Contains("completed", table.StandardOutput);

            (dll, args) = Program(commands[6], hubPort, otherPort);
            var json = await ProgramProcess.RunAsync(dll, args, within: ProgramStart);
            Assert.True(json.ExitCode == 0, json.StandardOutput + json.StandardError);
            var summary = JsonDocument.Parse(json.StandardOutput).RootElement;
            var documented = Markdown.CodeSpans(readme.Paragraph("`submit --json` prints"))[1];
            Assert.Equal(
                documented.Trim('{', '}').Split(", ").Select(f => f.TrimEnd('{', '}')).Order(StringComparer.Ordinal),
                summary.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.True(summary.GetProperty("completed").GetInt32() > 400, json.StandardOutput);

            // Ctrl+C or SIGTERM drains each program and it exits 0
            foreach (var program in Enumerable.Reverse(running))
            {
                program.Signal(PosixSignal.SIGTERM);
                Assert.Equal(0, await program.WaitForExitAsync(TimeSpan.FromSeconds(45)));
            }
        }
        finally
        {
            foreach (var program in running)
            {
                await program.DisposeAsync();
            }
        }
    }
    /// <summary>
    /// README.md's ONNX pair and docs/LABELLER.md's walk-through (the CNN, then the MLP the trainer writes), as separate
    /// programs against one hub: every task completes, the labels are right, and the MLP agent prints what the page shows.
    /// The MLP is written to a temporary folder instead of models/, the only change to the documented arguments besides
    /// the port.
    /// </summary>
    [Fact]
    public async Task OnnxServing_AsDocumented_LabelsTheDigits()
    {
        var readme = DocCommandsTests.BlockCommands(Markdown.Read("README.md").Blocks()
            .Single(b => b.Text.StartsWith("dotnet run --project src/SampleAgents -- onnx", StringComparison.Ordinal)).Text).ToList();
        var labeller = DocCommandsTests.BlockCommands(Markdown.Read("docs/LABELLER.md").Blocks()
            .Single(b => b.Text.StartsWith("# the CNN", StringComparison.Ordinal)).Text).ToList();
        Assert.Equal(2, readme.Count);
        Assert.Equal(5, labeller.Count);
        var folder = Directory.CreateTempSubdirectory("aicp-onnx-");
        var mlp = Path.Combine(folder.FullName, "digits-mlp.onnx");
        var hubPort = LoopbackPort.Free();
        (string Dll, string[] Args) Command(string line) =>
            Program(line.Replace("models/digits-mlp.onnx", mlp, StringComparison.Ordinal).Replace("-c Release ", "", StringComparison.Ordinal), hubPort, 0);

        await using var hub = ProgramProcess.Start(ProgramProcess.Hub, ["--urls", $"http://127.0.0.1:{hubPort}"]);
        try
        {
            await hub.WaitForOutputAsync($"Now listening on: http://127.0.0.1:{hubPort}", ProgramStart);

            // README: the CNN agent, then 1,000 digits in a table
            await ServeAndSubmitAsync(Command(readme[0]), Command(readme[1]), json: false, expected: 1000);

            // LABELLER.md: the CNN over MessagePack with --json, then the trainer's MLP
            await ServeAndSubmitAsync(Command(labeller[0]), Command(labeller[1]), json: true, expected: 2000);
            var (trainDll, trainArgs) = Command(labeller[2]);
            var train = await ProgramProcess.RunAsync(trainDll, trainArgs, within: TimeSpan.FromMinutes(5));
            Assert.True(train.ExitCode == 0, train.StandardOutput + train.StandardError);
            var serving = Markdown.Read("docs/LABELLER.md").Blocks().Single(b => b.Text.StartsWith("serving digits-mlp.onnx", StringComparison.Ordinal)).Text;
            await ServeAndSubmitAsync(Command(labeller[3]), Command(labeller[4]), json: true, expected: 1000, printed: serving);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>Starts the agent, runs the submitter to its end and checks its counts (and accuracy, for --json), then drains the agent.</summary>
    private static async Task ServeAndSubmitAsync((string Dll, string[] Args) agent, (string Dll, string[] Args) submit, bool json, int expected, string? printed = null)
    {
        await using var serving = ProgramProcess.Start(agent.Dll, agent.Args);
        await serving.WaitForOutputAsync("1 agent(s) registered", ProgramStart);
        if (printed is not null)
        {
            // what the agent prints on start: the documented lines, the provider's reason aside
            var lines = printed.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains(lines[0][..lines[0].IndexOf(" (", StringComparison.Ordinal)], serving.StandardOutput);
            Assert.All(lines[1..], line => Assert.Contains(line, serving.StandardOutput));
        }

        var run = await ProgramProcess.RunAsync(submit.Dll, submit.Args, within: TimeSpan.FromMinutes(3));

        Assert.True(run.ExitCode == 0, run.StandardOutput + run.StandardError);
        Assert.DoesNotContain("task(s)", run.StandardError); // a line per error code that failed tasks
        if (json)
        {
            var summary = JsonDocument.Parse(run.StandardOutput).RootElement;
            Assert.Equal(expected, summary.GetProperty("completed").GetInt32());
            Assert.True(summary.GetProperty("accuracy").GetDouble() > 0.95, run.StandardOutput);
        }
        else
        {
            Assert.Contains("labels correct on held-out MNIST digits", run.StandardOutput);
        }

        serving.Signal(PosixSignal.SIGTERM);
        Assert.Equal(0, await serving.WaitForExitAsync(TimeSpan.FromSeconds(45)));
    }
}
