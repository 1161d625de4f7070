using Aicp.SampleAgents.Labelling.Data;
using Aicp.SampleAgents.Onnx;

namespace Aicp.SampleAgents.Load;

/// <summary>
/// Payloads for <c>image.label</c>: the held-out MNIST digits shipped with the program (<see cref="DigitSample"/>), each
/// with its true label, cycled when more tasks than digits are sent.
/// </summary>
internal sealed class SampleImages
{
    private readonly DigitSample _digits;

    private SampleImages(DigitSample digits) => _digits = digits;

    /// <summary>How many distinct digits there are.</summary>
    public int Count => _digits.Count;

    /// <summary>Loads the shipped sample.</summary>
    /// <exception cref="FileNotFoundException">The sample file is missing from the program's folder.</exception>
    /// <exception cref="InvalidDataException">The sample file is damaged.</exception>
    public static SampleImages Load() => new(DigitSample.LoadDefault());

    /// <summary>The request payload: the image as bytes (base64 in JSON, <c>bin</c> over MessagePack).</summary>
    public object Payload(int index) => new Labelee.LabelRequest { Image = _digits.Image(index % _digits.Count).ToArray(), TopK = 3 };

    /// <summary>
    /// A model agent's payload: digit <paramref name="index"/> (grey / 255) as float32 tensor <paramref name="name"/>
    /// of <paramref name="shape"/> (784 values, e.g. [1,1,28,28] or [1,784]), sent as bytes.
    /// </summary>
    public object TensorPayload(int index, string name, long[] shape)
    {
        ReadOnlySpan<byte> image = _digits.Image(index % _digits.Count);
        var values = new float[image.Length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = image[i] / 255f;
        }

        return TensorRequest.Create([new FloatTensor(name, shape, values)]);
    }

    /// <summary>The true digit of payload <paramref name="index"/>.</summary>
    public string Label(int index) => _digits.Labels[index % _digits.Count].ToString();
}
