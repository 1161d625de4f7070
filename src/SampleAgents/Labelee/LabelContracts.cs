using Aicp.SampleAgents.Labelling;

namespace Aicp.SampleAgents.Labelee;

/// <summary>The <c>image.label</c> request: a 28x28 grey image and how many labels to return.</summary>
public sealed class LabelRequest
{
    /// <summary>784 raw grey bytes (row-major, white digit on black) or a 28x28 PNG. On the wire: base64 in JSON, <c>bin</c> over MessagePack.</summary>
    public byte[]? Image { get; init; }

    /// <summary>How many labels to return (1..10). The default value is 3.</summary>
    public int TopK { get; init; } = 3;
}

/// <summary>The <c>image.label</c> answer: the most likely digits first.</summary>
public sealed class LabelResponse
{
    public IReadOnlyList<LabelPrediction> Labels { get; init; } = [];

    /// <summary>The agent that labelled the image.</summary>
    public string Agent { get; init; } = "";

    /// <summary>Which model produced the labels and where it ran, e.g. <c>digits.onnx conv5x5x16-pool-conv5x5x32-pool-128-10 (cpu)</c>.</summary>
    public string Model { get; init; } = "";
}
