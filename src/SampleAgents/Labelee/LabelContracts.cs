namespace Aicp.SampleAgents.Labelee;

/// <summary>The <c>image.label</c> request: an image as base64 and how many labels to return.</summary>
public sealed class LabelRequest
{
    /// <summary>Base64 of the image bytes.</summary>
    public string? Image { get; init; }

    /// <summary>How many labels to return. The default value is 3.</summary>
    public int TopK { get; init; } = 3;
}

/// <summary>The <c>image.label</c> answer.</summary>
public sealed class LabelResponse
{
    public IReadOnlyList<LabelScore> Labels { get; init; } = [];

    /// <summary>The agent that labelled the image.</summary>
    public string Agent { get; init; } = "";

    /// <summary>Which model produced the labels.</summary>
    public string Model { get; init; } = "";
}
