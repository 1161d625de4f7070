using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using System.CommandLine;
using Aicp.SampleAgents.Cli;
using Aicp.SampleAgents.Demo;
using Aicp.SampleAgents.Labelling;
using Aicp.SampleAgents.Labelling.Training;
using Aicp.SampleAgents.Onnx;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.SampleAgents.Cli;

public class SampleAgentsCliTests
{
    [Fact]
    public void Parse_LabeleeAsInReadme_BindsProfileAndDefaults()
    {
        var (labelee, result) = Parse<LabeleeCommand>(
            "labelee", "--hub", "http://127.0.0.1:5000", "--id", "flaky-1", "--delay-ms", "40", "--jitter-ms", "20", "--fail-rate", "0.2");

        var settings = labelee.Bind(result);

        Assert.Equal("http://127.0.0.1:5000", settings.Hub);
        Assert.Equal(new("flaky-1", 40, 20, 0.2, 4), settings.Profile);
        Assert.Equal(HubProtocol.Json, settings.Protocol);
        Assert.Equal(1, settings.Batch);
        Assert.Null(settings.Token);
        Assert.Equal("auto", settings.Device);
    }

    [Fact]
    public void Parse_LabeleeEveryOption_BindsEach()
    {
        var (labelee, result) = Parse<LabeleeCommand>(
            "labelee", "--hub=http://hub:5000", "--id", "fast-1", "--delay-ms", "0", "--jitter-ms", "600000", "--fail-rate", "1",
            "--concurrency", "16", "--batch", "4096", "--protocol", "messagepack", "--token", "@key", "--device", "cpu");

        var settings = labelee.Bind(result);

        Assert.Equal(new LabeleeSettings("http://hub:5000", new("fast-1", 0, 600_000, 1, 16), HubProtocol.MessagePack, 4096, "@key", "cpu"), settings);
    }

    [Fact]
    public void Parse_ChatAsInReadme_DefaultIdAndOptions()
    {
        var (chat, result) = Parse<ChatCommand>("chat", "--hub", "http://127.0.0.1:5000");

        Assert.Equal(new ChatSettings("http://127.0.0.1:5000", "chat-1", 16, 0, HubProtocol.Json, null), chat.Bind(result));
    }

    [Fact]
    public void Parse_ChatEveryOption_BindsEach()
    {
        var (chat, result) = Parse<ChatCommand>("chat", "--hub", "http://hub:5000", "--id", "chat-7", "--concurrency", "4", "--delay-ms", "30",
            "--protocol", "messagepack", "--token", "@key");

        Assert.Equal(new ChatSettings("http://hub:5000", "chat-7", 4, 30, HubProtocol.MessagePack, "@key"), chat.Bind(result));
    }

    [Fact]
    public void Parse_OnnxEveryOption_BindsModelCapabilityAndAgent()
    {
        var (onnx, result) = Parse<OnnxCommand>(
            "onnx", "--model", "models/digits.onnx", "--capability", "digits.cnn", "--hub", "http://127.0.0.1:5000", "--id", "cnn-1",
            "--batch", "32", "--concurrency", "64", "--protocol", "messagepack", "--device", "cuda", "--token", "k");

        var settings = onnx.Bind(result);

        Assert.Equal(("models/digits.onnx", "cuda"), (settings.Model, settings.Device));
        Assert.Equal(("http://127.0.0.1:5000", "cnn-1", "digits.cnn", 64, 32, HubProtocol.MessagePack, "k"),
            (settings.Agent.HubUrl, settings.Agent.AgentId, settings.Agent.Capability, settings.Agent.Concurrency, settings.Agent.BatchSize, settings.Agent.Protocol, settings.Agent.AccessToken));
    }

    [Fact]
    public void Parse_OnnxDefaults_NoBatchingJsonAuto()
    {
        var (onnx, result) = Parse<OnnxCommand>("onnx", "--model", "m.onnx", "--capability", "m", "--hub", "http://h", "--id", "a");

        var settings = onnx.Bind(result);

        Assert.Equal((1, 16, HubProtocol.Json, "auto"), (settings.Agent.BatchSize, settings.Agent.Concurrency, settings.Agent.Protocol, settings.Device));
    }

    [Fact]
    public void Parse_SubmitJsonAsInReadme_BindsCountAndHubDefaults()
    {
        var (submit, result) = Parse<SubmitCommand>("submit", "--hub", "http://127.0.0.1:5000", "--count", "500", "--json");

        var settings = submit.Bind(result);

        Assert.Equal(("http://127.0.0.1:5000", "image.label", 500, 8, true, HubProtocol.Json),
            (settings.Hub, settings.Method, settings.Count, settings.Concurrency, settings.Json, settings.Protocol));
        Assert.Equal(((RoutingStrategy?)null, (TimeSpan?)null, (int?)null), (settings.Options.Strategy, settings.Options.Timeout, settings.Options.MaxAttempts));
    }

    [Fact]
    public void Parse_SubmitRoutingOptions_CarriedIntoSubmitOptions()
    {
        var (submit, result) = Parse<SubmitCommand>(
            "submit", "--hub", "http://h", "--method", "echo", "--strategy", "least-loaded", "--timeout-ms", "250", "--max-attempts", "3");

        var settings = submit.Bind(result);

        Assert.Equal("echo", settings.Method);
        Assert.Equal((RoutingStrategy.LeastLoaded, TimeSpan.FromMilliseconds(250), 3), (settings.Options.Strategy!.Value, settings.Options.Timeout!.Value, settings.Options.MaxAttempts!.Value));
        Assert.False(settings.Json);
    }

    [Fact]
    public void Parse_SubmitTensor_BindsNameAndShapeWithImageDefault()
    {
        var (submit, result) = Parse<SubmitCommand>("submit", "--hub", "http://h", "--method", "digits.mlp", "--tensor", "pixels", "--shape", "1,784");
        var (plain, plainResult) = Parse<SubmitCommand>("submit", "--hub", "http://h", "--method", "digits.cnn", "--tensor", "input");

        Assert.Equal("pixels", submit.Bind(result).Tensor);
        Assert.Equal([1L, 784], submit.Bind(result).Shape!);
        Assert.Equal([1L, 1, 28, 28], plain.Bind(plainResult).Shape!);
        Assert.Null(Parse<SubmitCommand>("submit", "--hub", "http://h").Command.Bind(SampleAgentsCli.Parse(["submit", "--hub", "http://h"])).Tensor);
    }

    [Theory]
    [InlineData(new[] { "demo" }, 600)]
    [InlineData(new[] { "demo", "--quick" }, 150)]
    [InlineData(new[] { "demo", "--quick", "--tasks", "20" }, 20)]
    public void Parse_Demo_TasksPerRun(string[] args, int expectedTasks)
    {
        var (demo, result) = Parse<DemoCommand>(args);

        Assert.Equal(new DemoSettings(expectedTasks, 8), demo.Bind(result));
    }

    [Fact]
    public void Parse_SwarmAsInReadme_BindsCount()
    {
        var (swarm, result) = Parse<SwarmCommand>("swarm", "--hub", "http://127.0.0.1:5000", "--count", "8");

        Assert.Equal(new SwarmSettings("http://127.0.0.1:5000", 8, HubProtocol.Json, "auto", null), swarm.Bind(result));
    }

    [Fact]
    public void Parse_TrainMlpHiddenAndSeed_BindTrainingOptions()
    {
        var (train, result) = Parse<TrainCommand>("train", "--arch", "mlp", "--hidden", "128,64", "--seed", "7", "--limit", "1000", "--no-augment");

        var settings = train.Bind(result);

        Assert.Equal([128, 64], settings.Options.HiddenSizes);
        Assert.Equal((7ul, new TrainingOptions().Epochs, false), (settings.Options.Seed, settings.Options.Epochs, settings.Options.Augment));
        Assert.Equal(("mlp", 1000, "digits-mlp.onnx"), (settings.Architecture, settings.Limit, settings.Output));
    }

    [Fact]
    public void Parse_TrainDefaults_TheShippedCnnRecipe()
    {
        var (train, result) = Parse<TrainCommand>("train", "--out", "models/digits.onnx");

        var settings = train.Bind(result);
        var recipe = new TrainingOptions();

        Assert.Equal(("cnn", "models/digits.onnx"), (settings.Architecture, settings.Output));
        Assert.Equal(recipe.Channels, settings.Options.Channels);
        Assert.Equal(recipe.HiddenSizes, settings.Options.HiddenSizes);
        Assert.Equal((recipe.Epochs, recipe.Dropout, recipe.LearningRate, recipe.Seed, true),
            (settings.Options.Epochs, settings.Options.Dropout, settings.Options.LearningRate, settings.Options.Seed, settings.Options.Augment));
    }

    [Fact]
    public void Parse_EvaluateBench_BindsRunsAndDevice()
    {
        var (evaluate, result) = Parse<EvaluateCommand>("evaluate", "--bench", "--batch", "32", "--runs", "5", "--device", "cpu", "--model", "m.onnx");

        var settings = evaluate.Bind(result);

        Assert.Equal(new EvaluateSettings(null, "m.onnx", "cpu", true, 32, 3.0, 5), settings);
    }

    [Theory]
    [InlineData("--delay-ms must be an integer within 0..600000; got '-1'.", "labelee", "--hub", "http://h", "--id", "a", "--delay-ms", "-1")]
    [InlineData("--fail-rate must be a number within 0..1; got '1.5'.", "labelee", "--hub", "http://h", "--id", "a", "--fail-rate", "1.5")]
    [InlineData("--count must be an integer within 1..10000000; got 'many'.", "submit", "--hub", "http://h", "--count", "many")]
    [InlineData("--max-attempts must be an integer within 1..10; got '11'.", "submit", "--hub", "http://h", "--max-attempts", "11")]
    [InlineData("--ca-cert: the file '/nonexistent/ca.crt' does not exist.", "submit", "--hub", "https://h", "--ca-cert", "/nonexistent/ca.crt")]
    [InlineData("--tasks must be an integer within 10..1000000; got '5'.", "demo", "--tasks", "5")]
    [InlineData("--hidden takes comma-separated widths within 1..4096; got '256,0'.", "train", "--arch", "mlp", "--hidden", "256,0")]
    [InlineData("--hidden takes one width with --arch cnn.", "train", "--hidden", "128,64")]
    [InlineData("--channels takes 2 widths; got '8'.", "train", "--channels", "8")]
    [InlineData("'tree'", "train", "--arch", "tree")]
    [InlineData("--capability 'Digits' does not match", "onnx", "--model", "m", "--capability", "Digits", "--hub", "http://h", "--id", "a")]
    [InlineData("'--model' is required", "onnx", "--capability", "m", "--hub", "http://h", "--id", "a")]
    [InlineData("'tpu'", "onnx", "--model", "m", "--capability", "m", "--hub", "http://h", "--id", "a", "--device", "tpu")]
    [InlineData("--id must match ^[a-z0-9][a-z0-9._-]{0,127}$ (lower case); got 'Bad_ID'.", "labelee", "--hub", "http://h", "--id", "Bad_ID")]
    [InlineData("--hub: Hub URL '127.0.0.1:5000' is not an absolute http, https, ws or wss URL.", "submit", "--hub", "127.0.0.1:5000")]
    [InlineData("'--bogus'", "labelee", "--hub", "http://h", "--id", "a", "--bogus")]
    [InlineData("'--jsn'", "submit", "--hub", "http://h", "--jsn")]
    [InlineData("'xml'", "labelee", "--hub", "http://h", "--id", "a", "--protocol", "xml")]
    [InlineData("'--hub' is required", "swarm", "--count", "3")]
    [InlineData("'--hub' is required", "chat")]
    [InlineData("--delay-ms must be an integer within 0..10000; got '20000'.", "chat", "--hub", "http://h", "--delay-ms", "20000")]
    [InlineData("'--id' is required", "labelee", "--hub", "http://h")]
    [InlineData("'--self-test'", "labelee", "--self-test")]
    [InlineData("--shape takes comma-separated dimensions whose product is 784; got '28,28,2'.", "submit", "--hub", "http://h", "--tensor", "x", "--shape", "28,28,2")]
    [InlineData("'launch'", "launch")]
    public async Task InvokeAsync_BadCommandLine_UsageErrorNamingTheProblem(string expectedError, params string[] args)
    {
        var (exitCode, output, error) = await InvokeAsync(args);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains(expectedError, error);
        Assert.Contains("Usage:", output); // the command's help follows the error
    }

    [Theory]
    [InlineData("onnx", "--model", "no-such-model.onnx", "--capability", "m", "--hub", "http://127.0.0.1:9", "--id", "a")]
    [InlineData("evaluate", "--model", "no-such-model.onnx")]
    [InlineData("onnx", "--model", "no-such-model.onnx", "--capability", "m", "--hub", "http://127.0.0.1:9", "--id", "a", "--device", "cpu")]
    public async Task InvokeAsync_MissingModel_FailureExitCodeWithoutConnecting(params string[] args)
    {
        var (exitCode, _, _) = await InvokeAsync(args);

        Assert.Equal(ExitCodes.Failure, exitCode);
    }

    [Theory]
    [InlineData("labelee", "--hub", "http://127.0.0.1:9", "--id", "a", "--device", "cuda")]
    [InlineData("swarm", "--hub", "http://127.0.0.1:9", "--device", "cuda")]
    [InlineData("evaluate", "--device", "cuda")]
    public async Task InvokeAsync_CudaAskedForWithoutItsProvider_FailureExitCodeWithoutConnecting(params string[] args)
    {
        if (Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider"))
        {
            return; // the CUDA build: whether it loads depends on the machine's GPU and libraries
        }

        var (exitCode, _, _) = await InvokeAsync(args);

        Assert.Equal(ExitCodes.Failure, exitCode);
    }

    [Fact]
    public async Task InvokeAsync_NoCommand_UsageErrorListingCommands()
    {
        var (exitCode, output, _) = await InvokeAsync();

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.All(SampleAgentsCli.CreateRootCommand().Subcommands, c => Assert.Contains(c.Name, output));
    }

    [Fact]
    public async Task InvokeAsync_HelpOnEveryCommand_ExitsZeroAndListsItsOptions()
    {
        foreach (var command in SampleAgentsCli.CreateRootCommand().Subcommands)
        {
            var (exitCode, output, error) = await InvokeAsync(command.Name, "--help");

            Assert.Equal(0, exitCode);
            Assert.Equal("", error);
            Assert.Contains($"{command.Name} [options]", output);
            Assert.All(command.Options, o => Assert.Contains(o.Name, output));
        }
    }

    private static (TCommand Command, ParseResult Result) Parse<TCommand>(params string[] args)
        where TCommand : Command
    {
        var result = SampleAgentsCli.Parse(args);
        Assert.True(result.Errors.Count == 0, string.Join(Environment.NewLine, result.Errors.Select(e => e.Message)));
        return (Assert.IsType<TCommand>(result.CommandResult.Command), result);
    }

    private static async Task<(int ExitCode, string Output, string Error)> InvokeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await SampleAgentsCli.InvokeAsync(args, output, error).DefaultTimeout();
        return (exitCode, output.ToString(), error.ToString());
    }
}
