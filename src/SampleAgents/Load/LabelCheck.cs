using Aicp.Agent.Sdk.Client;
using Aicp.Protocol;
using Aicp.SampleAgents.Labelee;
using Aicp.SampleAgents.Onnx;

namespace Aicp.SampleAgents.Load;

/// <summary>Judges a result against the digit's true label.</summary>
internal static class LabelCheck
{
    /// <summary>For <c>image.label</c>: whether the top label is the true digit.</summary>
    public static bool? IsCorrect(SampleImages images, int index, TaskResult result)
    {
        if (result.Status != TaskStatuses.Completed)
        {
            return null;
        }

        var top = result.GetResult<LabelResponse>()?.Labels.FirstOrDefault()?.Label;
        return top == images.Label(index);
    }

    /// <summary>For a model agent: whether the largest of the first output's (first row's) ten scores is the true digit.</summary>
    public static bool? IsCorrectTensor(SampleImages images, int index, TaskResult result)
    {
        if (result.Status != TaskStatuses.Completed || TensorResult.Read(result.Result) is not [{ Data.Length: >= 10 } first, ..])
        {
            return null;
        }

        return System.Numerics.Tensors.TensorPrimitives.IndexOfMax(first.Data.AsSpan(0, 10)).ToString() == images.Label(index);
    }
}
