using System.Text.Json;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Registry;
using Aicp.Protocol;
using Aicp.Tests.Hub.RoutingConfiguration;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Aicp.Tests.Hub.Dispatch;

/// <summary>A task sent to a router method runs on the capability its rules choose, with that capability's settings and fallbacks.</summary>
public sealed class TaskDispatcherIntentTests
{
    private static readonly Dictionary<string, string> NoMetadata = [];
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly RecordingAgentChannel _channel = new();
    private readonly TaskDispatcher _dispatcher;
    private readonly AgentRegistry _registry;

    public TaskDispatcherIntentTests()
    {
        (_dispatcher, _registry) = TestDispatcher.Create(_time, _channel, rules: RoutingRulesReaderTests.Read("""
            capabilities:
              text.code: { timeoutMs: 9000, fallbacks: [text.chat] }
            routers:
              auto:
                field: prompt
                rules: [{ name: code, keywords: [compile], capability: text.code }]
                default: text.chat
            """));
    }

    private static TaskRequest Auto(string prompt) => new() { Method = "auto", Payload = TaskPayload.FromJson(JsonSerializer.SerializeToElement(new { prompt })) };

    private async Task<(TaskResult Result, TaskAssignment Sent)> RunAsync(TaskRequest request)
    {
        var task = _dispatcher.SubmitAsync(request, CancellationToken.None);
        var (agent, sent) = await _channel.NextAsync();
        _dispatcher.Complete(agent.ConnectionId, new TaskCompletion { TaskId = sent.TaskId, Attempt = sent.Attempt, Ok = true, Result = TaskPayload.FromJson(JsonSerializer.SerializeToElement(1)) });
        return (await task.DefaultTimeout(), sent);
    }

    [Fact]
    public async Task Submit_RuleMatches_RunsOnItsCapabilityWithItsSettings()
    {
        _registry.Register("c-code", "coder", ["text.code"], 2, NoMetadata);
        _registry.Register("c-chat", "chatter", ["text.chat"], 2, NoMetadata);

        var (result, sent) = await RunAsync(Auto("why won't this compile?"));

        Assert.Equal(("text.code", 9000), (sent.Method, sent.TimeoutMs));
        Assert.Equal((TaskStatuses.Completed, "coder"), (result.Status, result.AgentId));
        Assert.Equal(("auto", "code", "text.code"), (result.Intent!.Router, result.Intent.Rule, result.Intent.Method));
        Assert.Equal("why won't this compile?", sent.Payload!.Json.GetProperty("prompt").GetString()); // the payload as sent
    }

    [Fact]
    public async Task Submit_NoRuleMatches_TheDefault()
    {
        _registry.Register("c-chat", "chatter", ["text.chat"], 2, NoMetadata);

        var (result, sent) = await RunAsync(Auto("hello there"));

        Assert.Equal("text.chat", sent.Method);
        Assert.Equal(("default", "text.chat"), (result.Intent!.Rule, result.Intent.Method));
    }

    [Fact]
    public async Task Submit_ChosenCapabilityWithoutAgents_ItsFallbacksApply()
    {
        _registry.Register("c-chat", "chatter", ["text.chat"], 2, NoMetadata);

        var (result, sent) = await RunAsync(Auto("compile this"));

        Assert.Equal("text.chat", sent.Method);
        Assert.Equal(("code", "text.code"), (result.Intent!.Rule, result.Intent.Method));
        Assert.Equal([("text.code", AttemptOutcomes.Skipped), ("text.chat", AttemptOutcomes.Completed)], result.Route.Select(e => (e.Method!, e.Outcome)));
    }

    [Fact]
    public async Task Submit_ChosenCapabilityRejectsTheRequest_TheRefusalSaysHowItWasClassified()
    {
        var request = new TaskRequest { Method = "auto", Payload = Auto("compile").Payload, Fallbacks = ["text.code"] };

        var result = await _dispatcher.SubmitAsync(request, CancellationToken.None).DefaultTimeout();

        Assert.Equal((TaskStatuses.Rejected, ErrorCodes.InvalidFallbacks), (result.Status, result.Error?.Code)); // text.code falls back to itself
        Assert.Equal(("code", "text.code"), (result.Intent!.Rule, result.Intent.Method));
    }

    [Fact]
    public async Task Submit_NotARouter_NoIntent()
    {
        _registry.Register("c-chat", "chatter", ["text.chat"], 2, NoMetadata);

        var (result, _) = await RunAsync(new TaskRequest { Method = "text.chat" });

        Assert.Null(result.Intent);
    }
}
