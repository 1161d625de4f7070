using Aicp.Agent.Sdk.Agent;
using Microsoft.Extensions.Logging;

namespace Aicp.SampleAgents.Labelee;

/// <summary>Builds an agent that serves <c>image.label</c> with a given speed and reliability profile.</summary>
internal static class LabeleeAgent
{
    public const string Method = "image.label";

    public static AicpAgent Create(string hubUrl, LabeleeProfile profile, ILoggerFactory? loggerFactory = null)
    {
        var agent = new AicpAgent(new AgentOptions
        {
            HubUrl = hubUrl,
            AgentId = profile.Id,
            MaxConcurrency = profile.Concurrency,
            Metadata = new() { ["model"] = "stand-in", ["delayMs"] = profile.DelayMs.ToString() },
        }, loggerFactory);
        var random = new Random(profile.Id.GetHashCode(StringComparison.Ordinal));
        agent.Handle<LabelRequest, LabelResponse>(Method, async (request, task, ct) =>
        {
            int delay;
            bool fail;
            lock (random)
            {
                delay = profile.DelayMs + (profile.JitterMs > 0 ? random.Next(-profile.JitterMs, profile.JitterMs + 1) : 0);
                fail = random.NextDouble() < profile.FailRate;
            }

            if (delay > 0)
            {
                await Task.Delay(delay, ct);
            }

            if (fail)
            {
                throw new AgentTaskException("model_error", $"{profile.Id} failed to label the image (simulated fault).");
            }

            byte[] image;
            try
            {
                image = Convert.FromBase64String(request?.Image ?? "");
            }
            catch (FormatException)
            {
                throw new AgentTaskException("invalid_image", "image must be base64.");
            }

            return new LabelResponse { Labels = StandInLabeller.Classify(image, request?.TopK ?? 3), Agent = profile.Id, Model = "stand-in" };
        });
        return agent;
    }
}
