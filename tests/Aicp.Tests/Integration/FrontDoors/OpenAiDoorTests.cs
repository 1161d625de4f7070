using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Hub.FrontDoors;
using Aicp.Hub.Observability;
using Aicp.Protocol;
using Aicp.SampleAgents.Chat;
using DemoMessage = Aicp.SampleAgents.Chat.ChatMessage;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;

namespace Aicp.Tests.Integration.FrontDoors;

/// <summary>
/// <c>POST /v1/chat/completions</c> and <c>GET /v1/models</c> over real loopback sockets, with the official OpenAI .NET
/// client where it applies and raw HTTP where the exact bytes matter (server-sent events, bodies that are not requests).
/// </summary>
public sealed class OpenAiDoorTests : IDisposable
{
    private const string Door = FrontDoorNames.OpenAi;
    private readonly string _directory = Directory.CreateTempSubdirectory("aicp-openai-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A hub whose model map sends <c>gpt-4o-mini</c> to <c>text.chat</c> and <c>gpt-offline</c> to a capability nobody serves.</summary>
    private Task<HubHarness> StartHubAsync(Dictionary<string, string?>? settings = null)
    {
        var routing = Path.Combine(_directory, "routing.yaml");
        File.WriteAllText(routing, """
            models:
              gpt-4o-mini: { capability: text.chat, strategy: least-loaded }
              gpt-offline: { capability: text.offline }
            """);
        settings ??= [];
        settings["Aicp:RoutingFile"] = routing;
        return HubHarness.StartAsync(settings);
    }

    private static OpenAIClientOptions ClientOptions(HubHarness h) => new()
    {
        Endpoint = new Uri(h.Hub.BaseUrl, "/v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0), // a refusal is asserted as it is answered, not retried
        NetworkTimeout = TestTimeouts.Default,
    };

    private static ChatClient Chat(HubHarness h, string model = "gpt-4o-mini", string key = "no-key-needed-in-open-mode") =>
        new(model, new ApiKeyCredential(key), ClientOptions(h));

    private static HttpClient Http(HubHarness h, string? token = null) => h.HttpClient(token);

    private static StringContent Json(string json) => HubHarness.Json(json);

    private static async Task<(HttpStatusCode Status, JsonElement Error, string? Header)> PostErrorAsync(HttpClient http, HttpContent content)
    {
        using var response = await http.PostAsync("/v1/chat/completions", content).DefaultTimeout();
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync().DefaultTimeout()).RootElement;
        AssertOpenAiError(body);
        return (response.StatusCode, body.GetProperty("error"),
            response.Headers.TryGetValues(ProtocolDefaults.ErrorCodeHeader, out var codes) ? codes.Single() : null);
    }

    /// <summary>OpenAI's error shape: exactly <c>{"error":{"message","type","param","code"}}</c>, message and type strings.</summary>
    private static void AssertOpenAiError(JsonElement body)
    {
        Assert.Equal(["error"], body.EnumerateObject().Select(p => p.Name));
        var error = body.GetProperty("error");
        Assert.Equal(["code", "message", "param", "type"], error.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
    }

    /// <summary>A streamed request's events as sent: each <c>data:</c> line's text, in order.</summary>
    private static async Task<(HttpResponseMessage Response, List<string> Events)> PostStreamAsync(HttpClient http, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json(body) };
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
        var text = await response.Content.ReadAsStringAsync().DefaultTimeout();
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.All(events, e => Assert.StartsWith("data: ", e, StringComparison.Ordinal));
        return (response, events.Select(e => e[6..]).ToList());
    }

    private static async Task<ChatCompletion> CompleteAsync(ChatClient chat, string text, ChatCompletionOptions? options = null) =>
        (await chat.CompleteChatAsync([new UserChatMessage(text)], options).DefaultTimeout()).Value;

    private static async Task<ClientResultException> RefusedAsync(Func<Task> call) =>
        await Assert.ThrowsAsync<ClientResultException>(() => call().DefaultTimeout());

    private static JsonElement ErrorOf(ClientResultException refused) =>
        JsonDocument.Parse(refused.GetRawResponse()!.Content.ToString()).RootElement.GetProperty("error");

    [Fact]
    public async Task CompleteChat_ChatAgent_ChatCompletionWithTheAnswerAndUsage()
    {
        await using var h = await StartHubAsync();
        await h.Own(ChatAgent.Create(h.Hub.BaseUrl.ToString(), "chat-1")).StartAsync().DefaultTimeout();
        var expected = DemoResponder.Reply(new ChatRequest { Messages = [new DemoMessage { Role = "user", Content = "route me to an agent" }] }).Answer;

        var completion = await CompleteAsync(Chat(h), "route me to an agent");

        Assert.Equal(expected.Content, Assert.Single(completion.Content).Text);
        Assert.StartsWith("This is the AICP demo responder, not a language model.", completion.Content[0].Text, StringComparison.Ordinal);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal("gpt-4o-mini", completion.Model);
        Assert.Matches("^chatcmpl-[0-9a-f]{32}$", completion.Id);
        Assert.Equal((5, expected.Usage!.CompletionTokens, 5 + expected.Usage.CompletionTokens), // tokens are the demo responder's words
            (completion.Usage.InputTokenCount, completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount));
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task CompleteChat_TestAgent_GetsTheDocumentedPayloadAndItsFinishReasonIsKept()
    {
        await using var h = await StartHubAsync();
        var payloads = new ConcurrentQueue<JsonElement>();
        await h.StartAgentAsync("chat-1", (task, _) =>
        {
            payloads.Enqueue(task.GetPayload<JsonElement>());
            return ValueTask.FromResult(JsonSerializer.SerializeToElement(new { content = "cut short", finish_reason = "length" }));
        }, method: "text.chat");

        var completion = await CompleteAsync(Chat(h), "hello", new ChatCompletionOptions { MaxOutputTokenCount = 2, Temperature = 0.5f });

        Assert.Equal("cut short", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Null(completion.Usage); // the agent counted no tokens
        var payload = Assert.Single(payloads);
        Assert.Equal(["max_tokens", "messages", "model", "temperature"], payload.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("gpt-4o-mini", payload.GetProperty("model").GetString());
        Assert.Equal(2, payload.GetProperty("max_tokens").GetInt32());
        Assert.Equal(0.5, payload.GetProperty("temperature").GetDouble(), 3);
        var message = Assert.Single(payload.GetProperty("messages").EnumerateArray());
        Assert.Equal(("user", "hello"), (message.GetProperty("role").GetString(), message.GetProperty("content").GetString()));
    }

    [Fact]
    public async Task CompleteChat_MappedModelWhoseCapabilityHasNoAgent_ServedByItsFallback()
    {
        var routing = Path.Combine(_directory, "routing.yaml");
        File.WriteAllText(routing, "models:\n  big-model: { capability: text.large, fallbacks: [text.chat] }\n");
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:RoutingFile"] = routing });
        await h.Own(ChatAgent.Create(h.Hub.BaseUrl.ToString(), "chat-1")).StartAsync().DefaultTimeout();

        var completion = await CompleteAsync(Chat(h, "big-model"), "anyone there");

        Assert.StartsWith(DemoResponder.Preamble, completion.Content[0].Text, StringComparison.Ordinal);
        Assert.Equal("big-model", completion.Model);
    }

    [Fact]
    public async Task CompleteChat_ModelMappedToAnIntentRouter_TheLastMessageChoosesTheCapability()
    {
        var routing = Path.Combine(_directory, "routing.yaml");
        File.WriteAllText(routing, """
            models:
              aicp-auto: { capability: auto }
            routers:
              auto:
                field: messages.-1.content
                rules:
                  - { name: code, keywords: [stack trace], capability: text.code }
                default: text.chat
            """);
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:RoutingFile"] = routing });
        await h.StartAgentAsync("coder", (_, _) => ValueTask.FromResult(JsonSerializer.SerializeToElement(new { content = "from text.code" })), method: "text.code");
        await h.StartAgentAsync("chatter", (_, _) => ValueTask.FromResult(JsonSerializer.SerializeToElement(new { content = "from text.chat" })), method: "text.chat");
        var chat = Chat(h, "aicp-auto");

        var code = await chat.CompleteChatAsync([new UserChatMessage("hello"), new AssistantChatMessage("hi"), new UserChatMessage("here is a Stack Trace")]).DefaultTimeout();
        var earlier = await chat.CompleteChatAsync([new UserChatMessage("a stack trace"), new UserChatMessage("thanks")]).DefaultTimeout();

        Assert.Equal("from text.code", code.Value.Content[0].Text);
        Assert.Equal("from text.chat", earlier.Value.Content[0].Text); // only the last message is read
        Assert.Equal("aicp-auto", code.Value.Model);
    }

    [Fact]
    public async Task CompleteChatStreaming_ChatAgent_EachWordAsAChunkInOrderThenTheFinishAndUsage()
    {
        await using var h = await StartHubAsync();
        await h.Own(ChatAgent.Create(h.Hub.BaseUrl.ToString(), "chat-1")).StartAsync().DefaultTimeout();
        var (pieces, answer) = DemoResponder.Reply(new ChatRequest { Messages = [new DemoMessage { Role = "user", Content = "stream these words" }] });

        var updates = new List<StreamingChatCompletionUpdate>();
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        await foreach (var update in Chat(h).CompleteChatStreamingAsync([new UserChatMessage("stream these words")], cancellationToken: timeout.Token))
        {
            updates.Add(update);
        }

        var chunks = updates.SelectMany(u => u.ContentUpdate).Select(p => p.Text).Where(t => t.Length > 0).ToList();
        Assert.Equal(pieces, chunks);
        Assert.Equal(answer.Content, string.Concat(chunks));
        Assert.Equal(ChatMessageRole.Assistant, updates[0].Role);
        Assert.Equal(ChatFinishReason.Stop, Assert.Single(updates, u => u.FinishReason is not null).FinishReason);
        var usage = Assert.Single(updates, u => u.Usage is not null).Usage;
        Assert.Equal((3, pieces.Count), (usage.InputTokenCount, usage.OutputTokenCount));
        Assert.Single(updates.Select(u => u.CompletionId).Distinct());
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task ChatCompletionsStream_RawEvents_RoleThenContentThenFinishThenDone()
    {
        await using var h = await StartHubAsync();
        await h.StartAgentAsync<string>("chat-1", async (task, ct) =>
        {
            await task.WriteChunkAsync(new { delta = "alpha " }, ct);
            await task.WriteChunkAsync("beta", ct); // a plain string is a delta too
            await task.WriteChunkAsync(new { other = 1 }, ct); // not a delta: skipped
            return "ignored: the chunks were the answer";
        }, method: "text.chat");
        using var http = Http(h);

        var (response, events) = await PostStreamAsync(http, """{"model":"text.chat","messages":[{"role":"user","content":"x"}],"stream":true}""");

        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.Equal(4, chunks.Count);
        Assert.All(chunks, c =>
        {
            Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString());
            Assert.Equal("text.chat", c.GetProperty("model").GetString());
            Assert.Equal(chunks[0].GetProperty("id").GetString(), c.GetProperty("id").GetString());
        });
        var choices = chunks.Select(c => Assert.Single(c.GetProperty("choices").EnumerateArray())).ToList();
        Assert.Equal("""{"role":"assistant","content":""}""", choices[0].GetProperty("delta").GetRawText());
        Assert.Equal("""{"content":"alpha "}""", choices[1].GetProperty("delta").GetRawText());
        Assert.Equal("""{"content":"beta"}""", choices[2].GetProperty("delta").GetRawText());
        Assert.Equal("{}", choices[3].GetProperty("delta").GetRawText());
        Assert.Equal([JsonValueKind.Null, JsonValueKind.Null, JsonValueKind.Null, JsonValueKind.String], choices.Select(c => c.GetProperty("finish_reason").ValueKind));
        Assert.Equal("stop", choices[3].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task ChatCompletionsStream_AgentThatDoesNotStream_ItsContentAsOneChunk()
    {
        await using var h = await StartHubAsync();
        await h.StartAgentAsync("chat-1", (_, _) => ValueTask.FromResult(JsonSerializer.SerializeToElement(new { content = "whole answer" })), method: "text.chat");
        using var http = Http(h);

        var (response, events) = await PostStreamAsync(http, """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"stream":true}""");

        response.Dispose();
        Assert.Equal(4, events.Count); // role, content, finish, [DONE]
        Assert.Equal("whole answer", JsonDocument.Parse(events[1]).RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString());
    }

    [Fact]
    public async Task ListModels_OpenAiModelClient_TheMapsModelsThenLiveCapabilities()
    {
        await using var h = await StartHubAsync();
        await h.Own(ChatAgent.Create(h.Hub.BaseUrl.ToString(), "chat-1")).StartAsync().DefaultTimeout();
        await h.StartAgentAsync("labelee-1", HubHarness.Echo("labelee-1"));
        var client = new OpenAIModelClient(new ApiKeyCredential("open"), ClientOptions(h));

        var models = (await client.GetModelsAsync().DefaultTimeout()).Value;

        Assert.Equal(["gpt-4o-mini", "gpt-offline", "image.label", "text.chat"], models.Select(m => m.Id));
        Assert.All(models, m => Assert.Equal("aicp", m.OwnedBy));
        using var http = Http(h);
        var raw = JsonDocument.Parse(await http.GetStringAsync("/v1/models").DefaultTimeout()).RootElement;
        Assert.Equal("list", raw.GetProperty("object").GetString());
        var first = raw.GetProperty("data")[0];
        Assert.Equal(("model", "text.chat", true, 1),
            (first.GetProperty("object").GetString(), first.GetProperty("capability").GetString(), first.GetProperty("mapped").GetBoolean(), first.GetProperty("agents").GetInt32()));
        Assert.Equal(0, raw.GetProperty("data")[1].GetProperty("agents").GetInt32());
    }

    [Fact]
    public async Task CompleteChat_UnknownModel_404ModelNotFoundInOpenAisShape()
    {
        await using var h = await StartHubAsync();
        await h.StartAgentAsync("labelee-1", HubHarness.Echo("labelee-1"));

        var refused = await RefusedAsync(() => CompleteAsync(Chat(h, "gpt-5"), "hello"));
        var capabilityNobodyServes = await RefusedAsync(() => CompleteAsync(Chat(h, "text.nobody"), "hello"));

        Assert.Equal(404, refused.Status);
        var error = ErrorOf(refused);
        Assert.Equal(("model_not_found", "invalid_request_error", "model"),
            (error.GetProperty("code").GetString(), error.GetProperty("type").GetString(), error.GetProperty("param").GetString()));
        Assert.Contains("gpt-5", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(404, capabilityNobodyServes.Status);
        Assert.Equal(2, (await MetricsScrape.FetchAsync(h.Hub.BaseUrl)).FrontDoor(Door, FrontDoorNames.InvalidRequest));
    }

    [Fact]
    public async Task CompleteChat_TaskDoesNotComplete_HubsStatusAndCodeInOpenAisShapeStreamedOrNot()
    {
        await using var h = await StartHubAsync();
        await h.StartAgentAsync("failing", (_, _) => throw new AgentTaskException("model_error", "the model failed"), method: "text.chat");
        using var http = Http(h);

        var noAgents = await RefusedAsync(() => CompleteAsync(Chat(h, "gpt-offline"), "hello"));
        var failed = await PostErrorAsync(http, Json("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}"""));
        var failedStreaming = await PostErrorAsync(http, Json("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"stream":true}"""));
        var noAgentsStreaming = await PostErrorAsync(http, Json("""{"model":"gpt-offline","messages":[{"role":"user","content":"x"}],"stream":true}"""));

        Assert.Equal(503, noAgents.Status);
        Assert.Equal((ErrorCodes.NoAgents, "server_error"), (ErrorOf(noAgents).GetProperty("code").GetString(), ErrorOf(noAgents).GetProperty("type").GetString()));
        Assert.Equal((HttpStatusCode.BadGateway, "model_error", "model_error"), (failed.Status, failed.Error.GetProperty("code").GetString(), failed.Header));
        Assert.Equal("the model failed", failed.Error.GetProperty("message").GetString());
        Assert.Equal((HttpStatusCode.BadGateway, "model_error"), (failedStreaming.Status, failedStreaming.Error.GetProperty("code").GetString()));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, ErrorCodes.NoAgents), (noAgentsStreaming.Status, noAgentsStreaming.Error.GetProperty("code").GetString()));
        var doors = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);
        Assert.Equal(2, doors.FrontDoor(Door, TaskStatuses.NoAgents));
        Assert.Equal(2, doors.FrontDoor(Door, TaskStatuses.Failed));
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task CompleteChat_AgentResultNotAChatAnswer_502InvalidAgentResult()
    {
        await using var h = await StartHubAsync();
        await h.StartAgentAsync("odd", (_, _) => ValueTask.FromResult(JsonSerializer.SerializeToElement(new { text = "no content key" })), method: "text.chat");
        using var http = Http(h);

        var refused = await PostErrorAsync(http, Json("""{"model":"text.chat","messages":[{"role":"user","content":"x"}]}"""));

        Assert.Equal((HttpStatusCode.BadGateway, "invalid_agent_result", "server_error"),
            (refused.Status, refused.Error.GetProperty("code").GetString(), refused.Error.GetProperty("type").GetString()));
        Assert.Contains("odd", refused.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatCompletions_BadInput_400Or413InOpenAisShapeAndTheHubStaysUp()
    {
        await using var h = await StartHubAsync(new Dictionary<string, string?>
        {
            ["Aicp:MaxMessageBytes"] = "8192", ["Aicp:Security:MaxPayloadBytes"] = "4096", ["Aicp:Security:MaxResultBytes"] = "4096",
        });
        await h.StartAgentAsync("chat-1", (_, _) => ValueTask.FromResult(JsonSerializer.SerializeToElement(new { content = "ok" })), method: "text.chat");
        using var http = Http(h);

        var malformed = await PostErrorAsync(http, Json("""{"model":"gpt-4o-mini","messages":["""));
        var notAnObject = await PostErrorAsync(http, Json("""["gpt-4o-mini"]"""));
        var noModel = await PostErrorAsync(http, Json("""{"messages":[{"role":"user","content":"x"}]}"""));
        var noMessages = await PostErrorAsync(http, Json("""{"model":"gpt-4o-mini"}"""));
        var emptyMessages = await PostErrorAsync(http, Json("""{"model":"gpt-4o-mini","messages":[]}"""));
        var imagePart = await PostErrorAsync(http, Json("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"""));
        var twoChoices = await PostErrorAsync(http, Json("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"n":2}"""));
        var streamNotABoolean = await PostErrorAsync(http, Json("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"stream":"yes"}"""));
        var empty = await PostErrorAsync(http, Json(""));
        var tooLarge = await PostErrorAsync(http, Json($$"""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"{{new string('x', 10_000)}}"}]}"""));
        var chunkedTooLarge = await PostErrorAsync(http, new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(new string(' ', 20_000) + "{}"))));
        using var stillServes = await http.PostAsync("/v1/chat/completions",
            Json("""{"model":"gpt-4o-mini","messages":[{"role":"system","content":null},{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],"user":"u-1","top_p":1}"""))
            .DefaultTimeout();

        foreach (var (refused, param) in new[]
                 {
                     (malformed, null), (notAnObject, null), (noModel, "model"), (noMessages, "messages"), (emptyMessages, "messages"),
                     (imagePart, "messages[0].content"), (twoChoices, "n"), (streamNotABoolean, "stream"), (empty, null),
                 })
        {
            Assert.Equal((HttpStatusCode.BadRequest, ErrorCodes.InvalidRequest, "invalid_request_error", param),
                (refused.Status, refused.Error.GetProperty("code").GetString(), refused.Error.GetProperty("type").GetString(), refused.Error.GetProperty("param").GetString()));
        }

        foreach (var refused in new[] { tooLarge, chunkedTooLarge })
        {
            Assert.Equal((HttpStatusCode.RequestEntityTooLarge, ErrorCodes.PayloadTooLarge, "invalid_request_error"),
                (refused.Status, refused.Error.GetProperty("code").GetString(), refused.Error.GetProperty("type").GetString()));
        }

        Assert.Equal(HttpStatusCode.OK, stillServes.StatusCode);
        var doors = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);
        Assert.Equal(11, doors.FrontDoor(Door, FrontDoorNames.InvalidRequest));
        Assert.Equal(1, doors.FrontDoor(Door, TaskStatuses.Completed));
    }

    [Fact]
    public async Task OpenAiDoor_Credentials_401WithoutKey403WithoutSubmitterRole429OverTheRateLimitAllInOpenAisShape()
    {
        var settings = TestCredentials.Secured(new() { ["Aicp:Security:MetricsAccess"] = "Open" });
        TestCredentials.AddKey(settings, 9, new TestCredentials.Key("metered", "metered-secret-0009", ["submitter"], RateLimit: (1, 1, 600_000)));
        await using var h = await StartHubAsync(settings);
        await h.StartAgentAsync("chat-1", (_, _) => ValueTask.FromResult(JsonSerializer.SerializeToElement(new { content = "ok" })), method: "text.chat",
            accessToken: TestCredentials.WorkerKey);
        const string Request = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}""";
        using var anonymous = Http(h);

        var none = await PostErrorAsync(anonymous, Json(Request));
        using var modelsWithoutKey = await anonymous.GetAsync("/v1/models").DefaultTimeout();
        var invalid = await RefusedAsync(() => CompleteAsync(Chat(h, key: "not-a-key"), "x"));
        var forbidden = await RefusedAsync(() => CompleteAsync(Chat(h, key: TestCredentials.AgentKey), "x"));
        var allowed = await CompleteAsync(Chat(h, key: TestCredentials.SubmitterKey), "x");
        var first = await CompleteAsync(Chat(h, key: "metered-secret-0009"), "x");
        var limited = await RefusedAsync(() => CompleteAsync(Chat(h, key: "metered-secret-0009"), "x"));

        Assert.Equal((HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized, "authentication_error", ErrorCodes.Unauthorized),
            (none.Status, none.Error.GetProperty("code").GetString(), none.Error.GetProperty("type").GetString(), none.Header));
        Assert.Equal(JsonValueKind.Null, none.Error.GetProperty("param").ValueKind);
        Assert.Contains("'submitter' role", none.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, modelsWithoutKey.StatusCode);
        AssertOpenAiError(JsonDocument.Parse(await modelsWithoutKey.Content.ReadAsStringAsync()).RootElement);
        Assert.Equal((401, ErrorCodes.Unauthorized), (invalid.Status, ErrorOf(invalid).GetProperty("code").GetString()));
        Assert.Equal((403, ErrorCodes.Forbidden, "permission_error"),
            (forbidden.Status, ErrorOf(forbidden).GetProperty("code").GetString(), ErrorOf(forbidden).GetProperty("type").GetString()));
        Assert.Equal(("ok", "ok"), (allowed.Content[0].Text, first.Content[0].Text));
        Assert.Equal((429, ErrorCodes.RateLimited, "rate_limit_error"),
            (limited.Status, ErrorOf(limited).GetProperty("code").GetString(), ErrorOf(limited).GetProperty("type").GetString()));

        var doors = await MetricsScrape.FetchAsync(h.Hub.BaseUrl);
        Assert.Equal(3, doors.FrontDoor(Door, FrontDoorNames.Unauthorized)); // two chat requests and the model list
        Assert.Equal(1, doors.FrontDoor(Door, TaskStatuses.Rejected));
        Assert.Equal(2, doors.FrontDoor(Door, TaskStatuses.Completed));
        Assert.Equal(1, doors.FrontDoor(Door, TaskStatuses.RateLimited));
        Assert.Equal(0, doors.FrontDoor(FrontDoorNames.Http, TaskStatuses.Completed)); // counted under its own door only
    }

    /// <summary>A <c>text.chat</c> agent that writes <paramref name="deltas"/>, then waits to be killed; the task says when it wrote them.</summary>
    private static async Task<(AicpAgent Agent, Task Wrote)> StartAgentKilledMidStreamAsync(HubHarness h, params string[] deltas)
    {
        var wrote = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var agent = await h.StartAgentAsync<string>("chat-1", async (task, ct) =>
        {
            foreach (var delta in deltas)
            {
                await task.WriteChunkAsync(new ChatDelta { Delta = delta }, ct);
            }

            wrote.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct); // the test kills the agent here
            return "never";
        }, method: "text.chat");
        return (agent, wrote.Task);
    }

    [Fact]
    public async Task ChatCompletionsStream_AgentKilledMidStream_ErrorEventStreamInterruptedAndNoDone()
    {
        await using var h = await StartHubAsync();
        var (agent, wrote) = await StartAgentKilledMidStreamAsync(h, "first ", "second ");
        using var http = Http(h);

        var reading = PostStreamAsync(http, """{"model":"text.chat","messages":[{"role":"user","content":"x"}],"stream":true}""");
        await wrote.DefaultTimeout();
        await agent.AbortAsync().DefaultTimeout();
        var (response, events) = await reading.DefaultTimeout();

        response.Dispose();
        Assert.Equal(4, events.Count); // role, two chunks, the error; no [DONE]
        Assert.Equal(["first ", "second "], events[1..3].Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString()));
        var error = JsonDocument.Parse(events[3]).RootElement;
        AssertOpenAiError(error);
        Assert.Equal((ErrorCodes.StreamInterrupted, "server_error"), (error.GetProperty("error").GetProperty("code").GetString(), error.GetProperty("error").GetProperty("type").GetString()));
        Assert.Equal(1, (await MetricsScrape.FetchAsync(h.Hub.BaseUrl)).FrontDoor(Door, TaskStatuses.Failed));
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task CompleteChatStreaming_AgentKilledMidStream_TheClientEndsAfterTheChunksItGotWithoutAFinishReason()
    {
        await using var h = await StartHubAsync();
        var (agent, wrote) = await StartAgentKilledMidStreamAsync(h, "partial ");

        var texts = new List<string>();
        var finishReasons = new List<ChatFinishReason>();
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        var reading = Task.Run(async () =>
        {
            await foreach (var update in Chat(h).CompleteChatStreamingAsync([new UserChatMessage("x")], cancellationToken: timeout.Token))
            {
                texts.AddRange(update.ContentUpdate.Select(p => p.Text).Where(t => t.Length > 0));
                finishReasons.AddRange(update.FinishReason is { } reason ? [reason] : []);
            }
        });
        await wrote.DefaultTimeout();
        await agent.AbortAsync().DefaultTimeout();
        var ended = await Record.ExceptionAsync(() => reading.DefaultTimeout());

        // The .NET client reads the error event as an update with no content and ends the enumeration: what tells the
        // caller the answer is cut short is that no update carried a finish reason.
        Assert.Null(ended);
        Assert.False(timeout.IsCancellationRequested, "the stream ended by itself");
        Assert.Equal(["partial "], texts);
        Assert.Empty(finishReasons);
        await h.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task ChatCompletionsStream_ClientCloses_TaskCancelledAndCounted()
    {
        await using var h = await StartHubAsync();
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await h.StartAgentAsync<string>("chat-1", async (task, ct) =>
        {
            await task.WriteChunkAsync(new ChatDelta { Delta = "hello " }, ct);
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                cancelled.TrySetResult();
                throw;
            }

            return "never";
        }, method: "text.chat");
        using var http = Http(h);

        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
               { Content = Json("""{"model":"text.chat","messages":[{"role":"user","content":"x"}],"stream":true}""") })
        using (var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout())
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync().DefaultTimeout() is { } line && !line.Contains("hello", StringComparison.Ordinal))
            {
            }
        }

        await cancelled.Task.DefaultTimeout();
        await h.AssertNothingPendingAsync();
        var metrics = h.Hub.Services.GetRequiredService<HubMetrics>();
        await TestTimeouts.Eventually(() => metrics.FrontDoorTotals()[Door].GetValueOrDefault(TaskStatuses.Cancelled) == 1, "the task counted as cancelled under the openai door");
    }
}
