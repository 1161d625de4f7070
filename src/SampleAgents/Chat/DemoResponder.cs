namespace Aicp.SampleAgents.Chat;

/// <summary>
/// The chat agent's answer: not a language model but a deterministic demo responder that says what it is and repeats
/// the last user message (its first <see cref="EchoedWords"/> words). Its tokens are words: the answer is split into
/// words, each with the space after it, so the pieces joined are the answer; the prompt's tokens are the words of every
/// message. <c>max_tokens</c> cuts the answer to that many words, with the finish reason <c>length</c>.
/// </summary>
internal static class DemoResponder
{
    /// <summary>Most words of the user's message the answer repeats.</summary>
    public const int EchoedWords = 40;

    public const string Preamble = "This is the AICP demo responder, not a language model.";

    /// <summary>The answer to <paramref name="request"/>: its pieces in order and the whole answer.</summary>
    public static (IReadOnlyList<string> Pieces, ChatAnswer Answer) Reply(ChatRequest request)
    {
        var last = request.Messages.LastOrDefault(m => m.Role == "user")?.Content;
        var said = Words(last);
        var text = said.Length == 0
            ? $"{Preamble} Send a user message to have it repeated."
            : $"{Preamble} You said: {string.Join(' ', said.Take(EchoedWords))}{(said.Length > EchoedWords ? " …" : "")}";
        var words = Words(text);
        var cut = request.MaxTokens is { } max && max < words.Length;
        if (cut)
        {
            words = words[..request.MaxTokens!.Value];
        }

        var pieces = words.Select((w, i) => i < words.Length - 1 ? w + " " : w).ToList();
        return (pieces, new ChatAnswer
        {
            Content = string.Concat(pieces),
            FinishReason = cut ? "length" : "stop",
            Usage = new ChatUsage { PromptTokens = request.Messages.Sum(m => Words(m.Content).Length), CompletionTokens = pieces.Count },
        });
    }

    private static string[] Words(string? text) => text?.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) ?? [];
}
