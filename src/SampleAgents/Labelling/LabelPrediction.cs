using System.Text.Json.Serialization;

namespace Aicp.SampleAgents.Labelling;

/// <summary>One candidate label for an image: the digit as a string ("0".."9") and its softmax probability.</summary>
public sealed record LabelPrediction(
    [property: JsonPropertyName("label")] string Label,
    [property: JsonPropertyName("probability")] double Probability);
