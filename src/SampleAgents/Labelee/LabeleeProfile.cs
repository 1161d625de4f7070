namespace Aicp.SampleAgents.Labelee;

/// <summary>How a sample labelee behaves: its speed, noise and reliability.</summary>
internal sealed record LabeleeProfile(string Id, int DelayMs, int JitterMs, double FailRate, int Concurrency)
{
    /// <summary>The three agents the demo runs: fast, medium, and slow and flaky.</summary>
    public static IReadOnlyList<LabeleeProfile> DemoTrio { get; } =
    [
        new("labelee-fast", 4, 2, 0, 4),
        new("labelee-medium", 15, 8, 0, 4),
        new("labelee-slow", 45, 30, 0.08, 4),
    ];

    /// <summary>A swarm of <paramref name="count"/> agents with a spread of speeds; every fourth is flaky.</summary>
    public static IEnumerable<LabeleeProfile> Swarm(int count) => Enumerable.Range(1, count).Select(i =>
        new LabeleeProfile($"labelee-{i:D2}", 3 + 6 * ((i - 1) % 5), 1 + 2 * ((i - 1) % 5), i % 4 == 0 ? 0.1 : 0, 4));
}
