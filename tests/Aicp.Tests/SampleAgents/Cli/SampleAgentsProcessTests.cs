using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Aicp.Agent.Sdk.Client;
using Aicp.Protocol;
using Aicp.SampleAgents.Cli;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.SampleAgents.Cli;

/// <summary>The sample agents' program run as a user runs it: exit codes, what it prints, and how it stops.</summary>
public sealed class SampleAgentsProcessTests
{
    private static readonly TimeSpan ProgramStart = TimeSpan.FromSeconds(60);

    /// <remarks>
    /// SIGTERM (what <c>docker stop</c> and Kubernetes send). SIGINT takes the same path in System.CommandLine, but a process
    /// started from a background job inherits SIGINT ignored, so a test cannot rely on delivering it.
    /// </remarks>
    [Fact]
    public async Task Labelee_Sigterm_DrainsTheTaskInProgressAndExitsZero()
    {
        await using var h = await HubHarness.StartAsync();
        await using var labelee = ProgramProcess.Start(ProgramProcess.SampleAgents,
            ["labelee", "--hub", h.Hub.BaseUrl.ToString(), "--id", "drain-1", "--delay-ms", "8000", "--concurrency", "1", "--device", "cpu"]);
        await labelee.WaitForOutputAsync("1 agent(s) registered", ProgramStart);
        var client = await h.StartClientAsync();

        var submitted = client.SubmitAsync("image.label", new { image = new byte[784], topK = 1 }, new SubmitOptions { MaxAttempts = 1 });
        // The agent's own load report (every 5 s) says when its one slot holds the task.
        await TestTimeouts.Eventually(() => h.Registry.GetById("drain-1")?.ReportedLoad?.Report.FreeSlots == 0, "the labelee working on the task");
        labelee.Signal(PosixSignal.SIGTERM);
        var result = await submitted.DefaultTimeout();
        var exitCode = await labelee.WaitForExitAsync();

        Assert.True((TaskStatuses.Completed, "drain-1", 1) == (result.Status, result.AgentId, result.Attempts),
            $"{result.Status} {result.Error?.Code} {result.Error?.Message}\n{labelee.Output}");
        Assert.Equal(0, exitCode);
        Assert.True(labelee.StandardOutput.Contains("Draining 1 agent(s): no new tasks; waiting for 1 in progress.", StringComparison.Ordinal), labelee.Output);
        Assert.Contains("Drained.", labelee.StandardOutput);
        var output = labelee.StandardOutput;
        Assert.True(output.IndexOf("Connected to", StringComparison.Ordinal) < output.IndexOf("Registered as drain-1", StringComparison.Ordinal),
            $"'Connected' before 'Registered':\n{output}");
    }

    /// <summary>README's <c>chat --hub URL</c> as a program: it registers <c>text.chat</c>, answers through the OpenAI door word by word, and drains on SIGTERM.</summary>
    [Fact]
    public async Task Chat_AsDocumented_ServesTheOpenAiDoorAndDrainsOnSigterm()
    {
        await using var h = await HubHarness.StartAsync();
        await using var chat = ProgramProcess.Start(ProgramProcess.SampleAgents, ["chat", "--hub", h.Hub.BaseUrl.ToString()]);
        await chat.WaitForOutputAsync("1 agent(s) registered", ProgramStart);
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl, Timeout = TestTimeouts.Default };

        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"text.chat","messages":[{"role":"user","content":"one two three"}],"stream":true}""", System.Text.Encoding.UTF8, "application/json")).DefaultTimeout();
        var events = (await response.Content.ReadAsStringAsync().DefaultTimeout()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var agents = h.Registry.Agents.Select(a => a.AgentId).ToList();
        chat.Signal(PosixSignal.SIGTERM);
        var exitCode = await chat.WaitForExitAsync();

        var text = string.Concat(events[1..^2].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString()));
        Assert.Equal("This is the AICP demo responder, not a language model. You said: one two three", text);
        Assert.Equal(18, events.Length); // the role, a chunk per word (15), the finish, [DONE]
        Assert.Equal(["chat-1"], agents);
        Assert.Equal(0, exitCode);
        Assert.Contains("Drained.", chat.StandardOutput);
    }

    [Fact]
    public async Task Labelee_KeyMayNotRegisterTheId_ExitsOneWithTheHubsReasonAfterOneAttempt()
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());

        var (exitCode, stdout, stderr) = await ProgramProcess.RunAsync(ProgramProcess.SampleAgents,
            ["labelee", "--hub", h.Hub.BaseUrl.ToString(), "--id", "cpu-9", "--token", TestCredentials.AgentKey, "--device", "cpu"], within: ProgramStart);

        Assert.Equal(ExitCodes.Failure, exitCode);
        Assert.Contains("error: The hub refused to register agent 'cpu-9': forbidden: This credential may not register agent id 'cpu-9'. " +
                        "labelee needs a key or JWT with the 'agent' role whose agent id and capability patterns allow 'cpu-9'", stderr);
        Assert.DoesNotContain("(attempt 2)", stdout + stderr);
        Assert.Equal(1, h.Counters.SecurityEvents()["binding_refused"]);
    }

    [Fact]
    public async Task Labelee_InvalidId_UsageErrorWithoutStackTrace()
    {
        var (exitCode, _, stderr) = await ProgramProcess.RunAsync(ProgramProcess.SampleAgents,
            ["labelee", "--hub", "http://127.0.0.1:5000", "--id", "Bad_ID"], within: ProgramStart);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains("--id must match ^[a-z0-9][a-z0-9._-]{0,127}$ (lower case); got 'Bad_ID'.", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public async Task Submit_NoTokenForAHubWithKeys_ExitsOneNamingTheRoleAndTheOption()
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());

        var (exitCode, stdout, stderr) = await ProgramProcess.RunAsync(ProgramProcess.SampleAgents,
            ["submit", "--hub", h.Hub.BaseUrl.ToString(), "--count", "3"], within: ProgramStart);

        Assert.Equal(ExitCodes.Failure, exitCode);
        Assert.Equal("", stdout);
        Assert.Contains("error: the hub refused the connection (HTTP 401, unauthorized): it requires a credential. " +
                        "submit needs an API key or JWT with the 'submitter' role: pass it with --token KEY.", stderr);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Submit_EveryTaskRejected_ExitsOneWithTheErrorCode(bool json)
    {
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured());
        await h.StartAgentAsync("gpu-1", HubHarness.Echo("gpu-1"), accessToken: TestCredentials.AgentKey);
        string[] args = ["submit", "--hub", h.Hub.BaseUrl.ToString(), "--count", "3", "--token", TestCredentials.AgentKey]; // an agent's key: no 'submitter' role

        var (exitCode, stdout, stderr) = await ProgramProcess.RunAsync(ProgramProcess.SampleAgents, json ? [.. args, "--json"] : args, within: ProgramStart);

        Assert.Equal(ExitCodes.Failure, exitCode);
        Assert.Contains("3 task(s) rejected (forbidden): Submitting needs the 'submitter' role. Hint: submit needs a key or JWT with the 'submitter' role; the one given with --token has not.", stderr);
        Assert.Contains("error: none of the 3 task(s) completed.", stderr);
        if (json)
        {
            var summary = JsonDocument.Parse(stdout).RootElement;
            Assert.Equal(3, summary.GetProperty("errorCodes").GetProperty("forbidden").GetInt32());
            Assert.Equal(3, summary.GetProperty("statuses").GetProperty("rejected").GetInt32());
        }
        else
        {
            Assert.Matches(@"rejected\s*│\s*forbidden\s*│\s*3", stdout);
        }
    }

    [Fact]
    public async Task Demo_OutputNotATerminal_PlainLinesInsteadOfAProgressDisplay()
    {
        var (exitCode, stdout, stderr) = await ProgramProcess.RunAsync(ProgramProcess.SampleAgents, ["demo", "--tasks", "10"], within: TimeSpan.FromMinutes(2));

        Assert.True(exitCode == 0, stdout + stderr);
        Assert.Contains("  run round-robin: 10 tasks", stdout);
        Assert.Contains("  run adaptive + kill labelee-medium: 10 tasks", stdout);
        Assert.DoesNotMatch(new Regex(@"^\s*[a-z+ -]+: \d+%\s*$", RegexOptions.Multiline), stdout); // "random: 11%"
        Assert.Contains("Every task got exactly one result.", stdout);
        Assert.Contains("  POST /v1/chat/completions: 200 \"This is the AICP demo responder, not a language model.", stdout);
        Assert.Matches(@"POST /v1/chat/completions, stream: 200, \d+ server-sent chunks", stdout);
    }
}
