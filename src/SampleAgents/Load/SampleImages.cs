using Aicp.SampleAgents.Labelling.Data;

namespace Aicp.SampleAgents.Load;

/// <summary>
/// Payloads for <c>image.label</c>: the held-out MNIST digits when the data set is installed
/// (scripts/fetch-mnist.sh), otherwise synthetic grey images (still valid input, but with no true label).
/// </summary>
internal sealed class SampleImages
{
    private readonly MnistDataset? _digits;

    private SampleImages(MnistDataset? digits) => _digits = digits;

    /// <summary>Whether payloads are real digits with known labels.</summary>
    public bool HasLabels => _digits is not null;

    public static SampleImages Load()
    {
        var directory = MnistLocator.TryFind();
        return new SampleImages(directory is null ? null : MnistDataset.Load(directory));
    }

    /// <summary>The request payload: the image as bytes (base64 in JSON, <c>bin</c> over MessagePack).</summary>
    public object Payload(int index) => new Labelee.LabelRequest { Image = Pixels(index), TopK = 3 };

    /// <summary>The true digit of payload <paramref name="index"/>, or null for synthetic images.</summary>
    public string? Label(int index) =>
        _digits is { } d ? d.Labels[d.TestIndices[index % d.TestIndices.Length]].ToString() : null;

    private byte[] Pixels(int index)
    {
        if (_digits is { } d)
        {
            return d.Image(d.TestIndices[index % d.TestIndices.Length]).ToArray();
        }

        var pixels = new byte[784];
        var seed = (uint)(index * 2654435761u);
        for (var i = 0; i < pixels.Length; i++)
        {
            seed = seed * 1664525u + 1013904223u;
            pixels[i] = (byte)(seed >> 24);
        }

        return pixels;
    }
}
