using Aicp.Agent.Sdk.Client;
using Aicp.Protocol;
using Aicp.SampleAgents.Labelee;

namespace Aicp.SampleAgents.Load;

/// <summary>Judges an <c>image.label</c> result against the digit's true label.</summary>
internal static class LabelCheck
{
    public static bool? IsCorrect(SampleImages images, int index, TaskResult result)
    {
        if (result.Status != TaskStatuses.Completed)
        {
            return null;
        }

        var top = result.ResultAs<LabelResponse>()?.Labels.FirstOrDefault()?.Label;
        return top == images.Label(index);
    }
}
