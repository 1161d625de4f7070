using System.Text.Json;
using System.Text.RegularExpressions;
using Aicp.Protocol;

namespace Aicp.Hub.RoutingConfiguration;

/// <summary>
/// A router method of the routing file (e.g. <c>auto</c>): a task sent to it is classified by ordered rules over one
/// text field of its payload and runs on the capability of the first rule that matches, else on the default. Bounded
/// in time: only the first <see cref="MaxTextChars"/> characters of the field are read, patterns run on .NET's
/// non-backtracking engine (linear in the text) with a match timeout, and a pattern that times out counts as no match.
/// Immutable, built by <see cref="RoutingRulesReader"/>.
/// </summary>
internal sealed class IntentRouter(string name, string[] field, IReadOnlyList<IntentRule> rules, string defaultCapability)
{
    /// <summary>Characters of the field the rules look at: 16 Ki.</summary>
    public const int MaxTextChars = 16 * 1024;

    /// <summary>
    /// The longest one pattern may run on one text: a backstop, the engine being linear in the text (at most
    /// <see cref="MaxTextChars"/>), generous enough that a busy machine's scheduling delays do not turn into misclassified tasks.
    /// </summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);

    /// <summary>The rule name reported when no rule matched.</summary>
    public const string DefaultRule = "default";

    public string Name { get; } = name;

    /// <summary>The path to the text in the payload: object keys, or array indexes (negative from the end).</summary>
    public IReadOnlyList<string> Field { get; } = field;

    public IReadOnlyList<IntentRule> Rules { get; } = rules;

    public string DefaultCapability { get; } = defaultCapability;

    /// <summary>The matching rule's name and capability (<see cref="DefaultRule"/> and the default when none matched or the field has no text).</summary>
    public (string Rule, string Capability) Classify(TaskPayload? payload)
    {
        if (payload is null || Text(payload.Json) is not { } text)
        {
            return (DefaultRule, DefaultCapability);
        }

        foreach (var rule in Rules)
        {
            if (rule.Matches(text))
            {
                return (rule.Name, rule.Capability);
            }
        }

        return (DefaultRule, DefaultCapability);
    }

    private string? Text(JsonElement value)
    {
        foreach (var step in Field)
        {
            if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty(step, out var property))
            {
                value = property;
            }
            else if (value.ValueKind == JsonValueKind.Array && int.TryParse(step, out var index)
                && (index < 0 ? value.GetArrayLength() + index : index) is var at && at >= 0 && at < value.GetArrayLength())
            {
                value = value[at];
            }
            else
            {
                return null;
            }
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var text = value.GetString()!;
        return text.Length <= MaxTextChars ? text : text[..MaxTextChars];
    }
}

/// <summary>
/// One rule of an <see cref="IntentRouter"/>: it matches when the text contains any of its keywords (ignoring case), or
/// when its pattern matches (ignoring case).
/// </summary>
internal sealed class IntentRule(string name, string capability, IReadOnlyList<string>? keywords, Regex? pattern)
{
    public string Name { get; } = name;

    public string Capability { get; } = capability;

    public IReadOnlyList<string>? Keywords { get; } = keywords;

    public Regex? Pattern { get; } = pattern;

    public bool Matches(string text)
    {
        if (Keywords is { } keywords)
        {
            foreach (var keyword in keywords)
            {
                if (text.Contains(keyword, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        try
        {
            return Pattern?.IsMatch(text) == true;
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    /// <summary>Compiles <paramref name="pattern"/> as rules run it; the problem when .NET's non-backtracking engine refuses it.</summary>
    public static Regex? Compile(string pattern, out string? problem)
    {
        try
        {
            problem = null;
            return new Regex(pattern, RegexOptions.NonBacktracking | RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, IntentRouter.MatchTimeout);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            problem = ex.Message;
            return null;
        }
    }
}
