using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aicp.SampleAgents.Chat;
using Spectre.Console;

namespace Aicp.SampleAgents.Demo;

/// <summary>
/// The demo's OpenAI route: a <c>chat</c> agent on the embedded hub, then one <c>POST /v1/chat/completions</c> without
/// <c>stream</c> and one with it, as any OpenAI client sends them (plain HTTP and JSON here, so the exchange is visible).
/// </summary>
internal static class OpenAiRouteDemo
{
    public const string Question = "How does a request reach an agent?";

    /// <summary>Runs both calls and prints what came back; true when both answered with the responder's text.</summary>
    public static async Task<bool> RunAsync(Uri hub, CancellationToken stop)
    {
        await using var agent = ChatAgent.Create(hub.ToString(), "chat-1");
        await agent.StartAsync(stop);
        using var http = new HttpClient { BaseAddress = hub, Timeout = TimeSpan.FromSeconds(30) };
        var expected = DemoResponder.Reply(new ChatRequest { Messages = [new ChatMessage { Role = "user", Content = Question }] }).Answer.Content;
        AnsiConsole.MarkupLine($"[bold]OpenAI-compatible route[/]: agent [green]chat-1[/] serves {ChatAgent.Method} (a demo responder, not a language model)");

        using var response = await http.PostAsJsonAsync("/v1/chat/completions", Body(stream: false), stop);
        var completion = await response.Content.ReadFromJsonAsync<JsonElement>(stop);
        var content = response.IsSuccessStatusCode ? completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() : completion.ToString();
        AnsiConsole.MarkupLine($"  POST /v1/chat/completions: {(int)response.StatusCode} \"{Markup.Escape(content ?? "")}\"");

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(Body(stream: true)) };
        using var streamed = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop);
        using var reader = new StreamReader(await streamed.Content.ReadAsStreamAsync(stop));
        var text = new StringBuilder();
        var events = 0;
        while (await reader.ReadLineAsync(stop) is { } line && line != "data: [DONE]")
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal)
                && JsonDocument.Parse(line[6..]).RootElement.GetProperty("choices") is { ValueKind: JsonValueKind.Array } choices && choices.GetArrayLength() > 0
                && choices[0].GetProperty("delta").TryGetProperty("content", out var delta))
            {
                events++;
                text.Append(delta.GetString());
            }
        }

        AnsiConsole.MarkupLine($"  POST /v1/chat/completions, stream: {(int)streamed.StatusCode}, {events} server-sent chunks \"{Markup.Escape(text.ToString())}\"");
        return content == expected && text.ToString() == expected;
    }

    private static object Body(bool stream) => new
    {
        model = ChatAgent.Method,
        messages = new[] { new { role = "user", content = Question } },
        stream,
    };
}
