namespace Aicp.SampleAgents.Onnx;

/// <summary>The error codes a model agent fails a task with. Each fails only that task, also inside a batch.</summary>
public static class TensorErrorCodes
{
    /// <summary>The payload is not a map with an <c>inputs</c> map (and, optionally, an <c>outputs</c> array of names).</summary>
    public const string InvalidPayload = "invalid_payload";

    /// <summary>A tensor is not <c>{shape, data}</c>: a shape that is not an array of integers >= 1, data that is neither bytes nor an array of numbers, bytes that are not valid base64, more than the element limit.</summary>
    public const string InvalidTensor = "invalid_tensor";

    /// <summary>An input the model does not have.</summary>
    public const string UnknownInput = "unknown_input";

    /// <summary>An input of the model that the payload does not carry.</summary>
    public const string MissingInput = "missing_input";

    /// <summary>A shape whose rank, or one of whose fixed dimensions, differs from the model's declaration.</summary>
    public const string ShapeMismatch = "shape_mismatch";

    /// <summary>Data whose number of values (or bytes / 4) is not the product of the shape.</summary>
    public const string DataLengthMismatch = "data_length_mismatch";

    /// <summary>A requested output the model does not have.</summary>
    public const string UnknownOutput = "unknown_output";

    /// <summary>ONNX Runtime refused the inputs (e.g. free dimensions that must agree and do not).</summary>
    public const string InferenceFailed = "inference_failed";
}
