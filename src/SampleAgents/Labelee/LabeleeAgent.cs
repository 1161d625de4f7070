using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Batching;
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

    /// <param name="batchSize">Above 1: serve through the SDK's dynamic batching, one forward pass per batch.</param>
    public static AicpAgent Create(string hubUrl, LabeleeProfile profile, DigitLabeller labeller, ILoggerFactory? loggerFactory = null,
        string? protocol = null, int batchSize = 1, string? accessToken = null)
    {
        var model = $"mnist-mlp {labeller.Architecture} ({labeller.BackendName})";
        var agent = new AicpAgent(new AgentOptions
        {
            HubUrl = hubUrl,
            AgentId = profile.Id,
            MaxConcurrency = profile.Concurrency,
            Protocol = protocol ?? Agent.Sdk.Connection.HubProtocols.Json,
            AccessToken = accessToken,
            Metadata = new() { ["model"] = model, ["delayMs"] = profile.DelayMs.ToString() },
        }, loggerFactory);
        var random = new Random(profile.Id.GetHashCode(StringComparison.Ordinal));
        if (batchSize > 1)
        {
            agent.HandleBatch(Method, async (batch, ct) =>
            {
                await SimulateAsync(profile, random, ct);
                var valid = new List<(BatchItem Item, byte[] Pixels, int TopK)>(batch.Count);
                foreach (var item in batch)
                {
                    try
                    {
                        var request = item.Task.PayloadAs<LabelRequest>();
                        var pixels = new byte[DigitLabeller.PixelCount];
                        Labelling.Imaging.ImageInput.ToPixels(Decode(request), pixels);
                        valid.Add((item, pixels, Math.Clamp(request?.TopK ?? 3, 1, 10)));
                    }
                    catch (Exception ex) when (ex is InvalidImageException or AgentTaskException or System.Text.Json.JsonException)
                    {
                        item.Fail(ex is InvalidImageException i ? i.Code : ex is AgentTaskException a ? a.Code : "invalid_payload", ex.Message);
                    }
                }

                var labels = labeller.Classify([.. valid.Select(v => (ReadOnlyMemory<byte>)v.Pixels)], 10);
                for (var i = 0; i < valid.Count; i++)
                {
                    valid[i].Item.Succeed(new LabelResponse { Labels = [.. labels[i].Take(valid[i].TopK)], Agent = profile.Id, Model = model });
                }
            }, new BatchOptions { MaxBatchSize = batchSize, MaxWait = TimeSpan.FromMilliseconds(2) });
            return agent;
        }

        agent.Handle<LabelRequest, LabelResponse>(Method, async (request, task, ct) =>
        {
            await SimulateAsync(profile, random, ct);
            try
            {
                return new LabelResponse { Labels = labeller.Classify(Decode(request), Math.Clamp(request?.TopK ?? 3, 1, 10)), Agent = profile.Id, Model = model };
            }
            catch (InvalidImageException ex)
            {
                throw new AgentTaskException(ex.Code, ex.Message);
            }
        });
        return agent;
    }

    /// <summary>The profile's artificial latency and failure rate.</summary>
    private static async Task SimulateAsync(LabeleeProfile profile, Random random, CancellationToken ct)
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
    }

    private static byte[] Decode(LabelRequest? request)
    {
        try
        {
            return Convert.FromBase64String(request?.Image ?? "");
        }
        catch (FormatException)
        {
            throw new AgentTaskException(InvalidImageCodes.InvalidImage, "image must be base64 of 784 grey bytes or of a 28x28 PNG.");
        }
    }
}
