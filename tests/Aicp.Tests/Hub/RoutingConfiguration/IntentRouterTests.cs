using System.Text.Json;
using Aicp.Hub.RoutingConfiguration;
using Aicp.Protocol;
using MessagePack;

namespace Aicp.Tests.Hub.RoutingConfiguration;

/// <summary>Intent routers: ordered rules over one payload field, a default, bounded evaluation, every bad rule refused at load.</summary>
public sealed class IntentRouterTests
{
    private static readonly IntentRouter Auto = RoutingRulesReaderTests.Read("""
        routers:
          auto:
            field: messages.-1.content
            rules:
              - { name: code, keywords: [stack trace, "compile error"], capability: text.code }
              - { name: image, pattern: '\b[\w-]+\.(png|jpe?g)\b', capability: image.label }
              - { name: code-late, keywords: [python], capability: text.code.slow }
            default: text.chat
        """).Routers["auto"];

    private static TaskPayload Json(string json) => TaskPayload.FromJson(JsonDocument.Parse(json).RootElement);

    private static TaskPayload Messages(params string[] contents) =>
        TaskPayload.FromJson(JsonSerializer.SerializeToElement(new { messages = contents.Select(c => new { role = "user", content = c }) }));

    [Theory]
    [InlineData("Why does this give a Stack Trace?", "code", "text.code")] // keywords ignore case
    [InlineData("label cat.PNG please", "image", "image.label")]
    [InlineData("a python stack trace", "code", "text.code")] // the first matching rule wins
    [InlineData("python or cat.jpg", "image", "image.label")]
    [InlineData("write me a poem", "default", "text.chat")]
    [InlineData("", "default", "text.chat")]
    public void Classify_FirstMatchingRuleElseTheDefault(string text, string rule, string capability)
    {
        Assert.Equal((rule, capability), Auto.Classify(Messages("earlier: stack trace", text)));
    }

    [Theory]
    [InlineData("""{"messages":[]}""")] // the index is out of range
    [InlineData("""{"messages":[{"role":"user","content":42}]}""")] // not text
    [InlineData("""{"prompt":"stack trace"}""")] // another field
    [InlineData("""["stack trace"]""")]
    [InlineData("null")]
    public void Classify_FieldWithoutText_TheDefault(string json) => Assert.Equal(("default", "text.chat"), Auto.Classify(Json(json)));

    [Fact]
    public void Classify_NoPayload_TheDefault() => Assert.Equal(("default", "text.chat"), Auto.Classify(null));

    [Fact]
    public void Classify_MessagePackPayload_ReadsTheSameField()
    {
        var bytes = MessagePackSerializer.Serialize(new Dictionary<string, object> { ["messages"] = new object[] { new Dictionary<string, object> { ["content"] = "see photo.jpeg" } } });

        Assert.Equal(("image", "image.label"), Auto.Classify(TaskPayload.FromMessagePack(bytes)));
    }

    [Fact]
    public void Classify_TextLongerThanTheLimit_OnlyItsStartIsRead()
    {
        var fits = new string('x', IntentRouter.MaxTextChars - "stack trace".Length);
        var over = fits + "x";

        Assert.Equal(("code", "text.code"), Auto.Classify(Messages(fits + "stack trace"))); // ends on the last character read
        Assert.Equal(("default", "text.chat"), Auto.Classify(Messages(over + "stack trace"))); // its last character is past the limit
    }

    [Fact]
    public void Classify_PathWithPositiveIndexAndNesting()
    {
        var router = RoutingRulesReaderTests.Read("""
            routers:
              auto:
                field: input.0.text
                rules: [{ name: hit, keywords: [needle], capability: text.found }]
                default: text.other
            """).Routers["auto"];

        Assert.Equal(("hit", "text.found"), router.Classify(Json("""{"input":[{"text":"a needle"},{"text":"no"}]}""")));
        Assert.Equal(("default", "text.other"), router.Classify(Json("""{"input":[{"text":"no"},{"text":"a needle"}]}""")));
    }

    [Fact]
    public void Read_BadRouters_EveryProblemListed()
    {
        var errors = RoutingRulesReaderTests.Problems("""
            capabilities:
              both: {}
            routers:
              both:
                field: prompt
                rules: [{ name: a, keywords: [x], capability: text.a }]
                default: text.chat
              Bad.Name:
                rules: []
              lookaround:
                field: prompt
                default: both2
                rules:
                  - { name: behind, pattern: '(?<=a)b', capability: text.a }
                  - { name: backref, pattern: '(a)\1', capability: text.a }
                  - { name: broken, pattern: '([a-z', capability: text.a }
                  - { name: both-tests, keywords: [x], pattern: 'x', capability: text.a }
                  - { name: no-test, capability: text.a }
                  - { name: behind, keywords: [y], capability: text.a }
                  - { name: default, keywords: [z], capability: text.a }
                  - { name: to-router, keywords: [w], capability: both }
                  - { name: empty-keyword, keywords: [""], capability: text.a }
            """);

        Assert.Contains(errors, e => e.Contains("routers.both: 'both' is also under capabilities"));
        Assert.Contains(errors, e => e.Contains("routers.Bad.Name: 'Bad.Name' is not a valid method name"));
        Assert.Contains(errors, e => e.Contains("routers.Bad.Name.field: the payload field the rules read is required"));
        Assert.Contains(errors, e => e.Contains("routers.Bad.Name.default: a capability name") && e.Contains("got ''"));
        Assert.Contains(errors, e => e.Contains("routers.Bad.Name.rules: 1..64 rules are required; got 0."));
        Assert.Contains(errors, e => e.Contains("routers.lookaround.rules[0].pattern '(?<=a)b' is refused"));
        Assert.Contains(errors, e => e.Contains("routers.lookaround.rules[1].pattern '(a)\\1' is refused"));
        Assert.Contains(errors, e => e.Contains("routers.lookaround.rules[2].pattern '([a-z' is refused"));
        Assert.Contains(errors, e => e.Contains("routers.lookaround.rules[3]: give either keywords or a pattern."));
        Assert.Contains(errors, e => e.Contains("routers.lookaround.rules[4]: give either keywords or a pattern."));
        Assert.Contains(errors, e => e.Contains("routers.lookaround.rules[5].name: 'behind' is the name of an earlier rule."));
        Assert.Contains(errors, e => e.Contains("routers.lookaround.rules[6].name: a rule name"));
        Assert.Contains(errors, e => e.Contains("routers.lookaround.rules[7].capability: 'both' is a router"));
        Assert.Contains(errors, e => e.Contains("routers.lookaround.rules[8].keywords: a keyword is empty."));
        Assert.Equal(14, errors.Count);
    }

    [Fact]
    public void Pattern_RunsOnTheNonBacktrackingEngine_LinearOnAHostileText()
    {
        // A pattern that takes exponential time on a backtracking engine (nested quantifiers against a near-miss).
        var router = RoutingRulesReaderTests.Read("""
            routers:
              auto:
                field: prompt
                rules: [{ name: evil, pattern: '^(a+)+$', capability: text.a }]
                default: text.chat
            """).Routers["auto"];
        var hostile = JsonSerializer.SerializeToElement(new { prompt = new string('a', IntentRouter.MaxTextChars - 1) + "!" });

        Assert.Equal(System.Text.RegularExpressions.RegexOptions.NonBacktracking,
            router.Rules[0].Pattern!.Options & System.Text.RegularExpressions.RegexOptions.NonBacktracking);
        Assert.Equal(("default", "text.chat"), router.Classify(TaskPayload.FromJson(hostile)));
    }
}
