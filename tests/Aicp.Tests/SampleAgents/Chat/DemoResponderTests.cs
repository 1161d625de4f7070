using Aicp.SampleAgents.Chat;

namespace Aicp.Tests.SampleAgents.Chat;

/// <summary>The chat agent's demo responder: deterministic, plainly labelled, its pieces the words of its answer.</summary>
public sealed class DemoResponderTests
{
    private static ChatRequest Request(int? maxTokens = null, params (string Role, string Content)[] messages) => new()
    {
        Messages = [.. messages.Select(m => new ChatMessage { Role = m.Role, Content = m.Content })], MaxTokens = maxTokens,
    };

    [Fact]
    public void Reply_LastUserMessage_SaysWhatItIsAndRepeatsItWordByWord()
    {
        var (pieces, answer) = DemoResponder.Reply(Request(null, ("system", "be brief"), ("user", "first"), ("assistant", "ok"), ("user", "route  this\nplease")));

        Assert.Equal("This is the AICP demo responder, not a language model. You said: route this please", answer.Content);
        Assert.Equal(answer.Content, string.Concat(pieces));
        Assert.Equal(["This ", "is ", "the "], pieces.Take(3));
        Assert.Equal("please", pieces[^1]);
        Assert.Equal(("stop", 7, pieces.Count), (answer.FinishReason, answer.Usage!.PromptTokens, answer.Usage.CompletionTokens));
        Assert.Equal(answer.Content, DemoResponder.Reply(Request(null, ("user", "route this please"))).Answer.Content); // deterministic
    }

    [Fact]
    public void Reply_MaxTokens_CutToThatManyWordsWithFinishReasonLength()
    {
        var (pieces, answer) = DemoResponder.Reply(Request(3, ("user", "hello")));

        Assert.Equal(["This ", "is ", "the"], pieces);
        Assert.Equal(("This is the", "length", 3), (answer.Content, answer.FinishReason, answer.Usage!.CompletionTokens));
    }

    [Fact]
    public void Reply_NoUserMessageOrALongOne_StillLabelledAndBounded()
    {
        var none = DemoResponder.Reply(Request(null, ("system", "x"))).Answer.Content;
        var words = string.Join(' ', Enumerable.Range(0, 500).Select(i => $"w{i}"));
        var (pieces, _) = DemoResponder.Reply(Request(null, ("user", words)));

        Assert.StartsWith(DemoResponder.Preamble, none, StringComparison.Ordinal);
        Assert.Equal(10 + 2 + DemoResponder.EchoedWords + 1, pieces.Count); // the preamble, "You said:", the echo, "…"
        Assert.Equal("…", pieces[^1]);
    }
}
