using System.Diagnostics;

namespace Aicp.Hub.Observability;

/// <summary>
/// The hub's <see cref="ActivitySource"/> (<c>Aicp.Hub</c>), span names and tag names. Spans: <c>aicp.submit</c>
/// around a whole task, <c>aicp.attempt</c> per dispatch (child of submit), <c>aicp.complete</c> when an agent's
/// completion arrives (child of the attempt it answers when that attempt is live). Listen with an
/// <see cref="ActivityListener"/> or OpenTelemetry's <c>AddSource("Aicp.Hub")</c>.
/// </summary>
internal static class HubTracing
{
    public const string SourceName = "Aicp.Hub";

    public const string SubmitSpan = "aicp.submit";
    public const string AttemptSpan = "aicp.attempt";
    public const string CompleteSpan = "aicp.complete";

    public const string TaskIdTag = "aicp.task.id";
    public const string MethodTag = "aicp.method";
    public const string StrategyTag = "aicp.strategy";
    public const string AttemptTag = "aicp.attempt";
    public const string AgentTag = "aicp.agent.id";
    public const string OutcomeTag = "aicp.outcome";
    public const string StatusTag = "aicp.status";
    public const string AttemptsTag = "aicp.attempts";
    public const string CandidatesTag = "aicp.candidates";
    public const string ErrorCodeTag = "aicp.error.code";
    public const string MatchedTag = "aicp.completion.matched";

    public static readonly ActivitySource Source = new(SourceName, typeof(HubTracing).Assembly.GetName().Version?.ToString());
}
