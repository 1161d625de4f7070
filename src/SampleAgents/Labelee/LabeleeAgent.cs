using System.Net.Security;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Batching;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
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
    /// <param name="certificateValidation">The hub's TLS certificate check for an https:// hub; null: the system's trust store.</param>
    public static AicpAgent Create(string hubUrl, LabeleeProfile profile, DigitLabeller labeller, ILoggerFactory? loggerFactory = null,
        HubProtocol protocol = HubProtocol.Json, int batchSize = 1, string? accessToken = null, RemoteCertificateValidationCallback? certificateValidation = null)
    {
        var model = labeller.Description;
        var agent = new AicpAgent(new AgentOptions
        {
            HubUrl = hubUrl,
            AgentId = profile.Id,
            MaxConcurrency = profile.Concurrency,
            Protocol = protocol,
            AccessToken = accessToken,
            RemoteCertificateValidationCallback = certificateValidation,
            Metadata = new() { ["model"] = model, ["delayMs"] = profile.DelayMs.ToString() },
        }, loggerFactory);
        var random = new Random(profile.Id.GetHashCode(StringComparison.Ordinal));
        if (batchSize > 1)
        {
            // The raw payload (TaskPayload) as the batch's request: the image is read straight from the received bytes.
            agent.HandleBatch<TaskPayload?, LabelResponse>(Method, async (batch, ct) =>
            {
                await SimulateAsync(profile, random, ct);
                var valid = new List<(BatchItem<TaskPayload?, LabelResponse> Item, byte[] Pixels, int TopK)>(batch.Count);
                foreach (var item in batch)
                {
                    try
                    {
                        var pixels = new byte[DigitLabeller.PixelCount];
                        Labelling.Imaging.ImageInput.ToPixels(ImageBytes(item.Task).Span, pixels);
                        valid.Add((item, pixels, TopK(item.Task)));
                    }
                    catch (Exception ex) when (ex is InvalidImageException or AgentTaskException)
                    {
                        item.Fail(ex is InvalidImageException i ? i.Code : ((AgentTaskException)ex).Code, ex.Message);
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

        agent.Handle(Method, async (task, ct) =>
        {
            await SimulateAsync(profile, random, ct);
            try
            {
                var labels = labeller.Classify(ImageBytes(task).Span, TopK(task));
                return new LabelResponse { Labels = labels, Agent = profile.Id, Model = model };
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

    /// <summary>
    /// The image's bytes: over MessagePack a <c>bin</c> value is used as received (no base64, no copy); a base64 string
    /// (JSON, or a MessagePack submitter that sent text) is decoded.
    /// </summary>
    private static ReadOnlyMemory<byte> ImageBytes(AgentTaskContext task) =>
        task.TryGetBinary("image", out var bytes)
            ? bytes
            : throw new AgentTaskException(InvalidImageCodes.InvalidImage, "image must be bytes (MessagePack bin or base64) of 784 grey values or of a 28x28 PNG.");

    /// <summary>The request's <c>topK</c> (1..10, default 3), read without building a JSON view of a MessagePack payload.</summary>
    private static int TopK(AgentTaskContext task)
    {
        var topK = task.TryGetInt64("topK", out var value) ? value : 3;
        return (int)Math.Clamp(topK == 0 ? 3 : topK, 1, 10);
    }
}
