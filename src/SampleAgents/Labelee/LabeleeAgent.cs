using Aicp.Agent.Sdk.Agent;
using Aicp.SampleAgents.Labelling;
using Microsoft.Extensions.Logging;

namespace Aicp.SampleAgents.Labelee;

/// <summary>
/// Builds an agent that serves <c>image.label</c> with the digit labeller, plus an optional artificial
/// delay, jitter and failure rate so a swarm shows different speeds and reliabilities.
/// </summary>
internal static class LabeleeAgent
{
    public const string Method = "image.label";

    public static AicpAgent Create(string hubUrl, LabeleeProfile profile, DigitLabeller labeller, ILoggerFactory? loggerFactory = null, string? protocol = null)
    {
        var model = $"mnist-mlp {labeller.Architecture} ({labeller.BackendName})";
        var agent = new AicpAgent(new AgentOptions
        {
            HubUrl = hubUrl,
            AgentId = profile.Id,
            MaxConcurrency = profile.Concurrency,
            Protocol = protocol ?? Agent.Sdk.Connection.HubProtocols.Json,
            Metadata = new() { ["model"] = model, ["delayMs"] = profile.DelayMs.ToString() },
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
                throw new AgentTaskException(InvalidImageCodes.InvalidImage, "image must be base64 of 784 grey bytes or of a 28x28 PNG.");
            }

            try
            {
                return new LabelResponse { Labels = labeller.Classify(image, Math.Clamp(request?.TopK ?? 3, 1, 10)), Agent = profile.Id, Model = model };
            }
            catch (InvalidImageException ex)
            {
                throw new AgentTaskException(ex.Code, ex.Message);
            }
        });
        return agent;
    }
}
