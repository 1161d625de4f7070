using System.Security.Cryptography;

namespace Aicp.SampleAgents.Labelee;

/// <summary>
/// A deterministic stand-in for a model: the same image always gets the same labels, derived from a
/// hash of its bytes. Used when no trained model is available.
/// </summary>
internal static class StandInLabeller
{
    private static readonly string[] Labels = ["cat", "dog", "bird", "car", "tree", "boat", "plane", "flower"];

    public static IReadOnlyList<LabelScore> Classify(ReadOnlySpan<byte> image, int topK)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(image, hash);
        var scores = new double[Labels.Length];
        var total = 0.0;
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = Math.Pow(hash[i] + 1, 2);
            total += scores[i];
        }

        return [.. scores.Select((s, i) => new LabelScore(Labels[i], Math.Round(s / total, 4)))
            .OrderByDescending(s => s.Probability).ThenBy(s => s.Label, StringComparer.Ordinal).Take(Math.Clamp(topK, 1, Labels.Length))];
    }
}

/// <summary>One label and its probability.</summary>
public sealed record LabelScore(string Label, double Probability);
