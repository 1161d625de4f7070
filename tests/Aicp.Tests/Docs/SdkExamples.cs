using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Batching;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Agent.Sdk.Gpu;
using Aicp.Agent.Sdk.Hosting;
using Aicp.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aicp.Tests.Docs.SdkExamples;

// The C# of docs/SDK.md, compiled: each of its blocks is one region between "// SDK.md begin" and "// SDK.md end"
// below, line for line (ReadmeSnippetTests.Sdk_EveryCSharpBlock_IsACompiledExample checks it). What the examples take
// as given (a model, the request and response types, a host builder) is declared around the regions.

public sealed class LabelRequest
{
    public byte[] Image { get; set; } = [];
}

public sealed class LabelResponse
{
    public string[] Labels { get; set; } = [];
}

public sealed record EmbedRequest(string Text);

public sealed record EmbedResponse(float[] Vector);

public interface IModel
{
    ValueTask<LabelResponse> LabelAsync(LabelRequest request, CancellationToken ct);

    Task<IReadOnlyList<LabelResponse>> LabelAsync(IReadOnlyList<LabelRequest> requests, CancellationToken ct);

    LabelResponse Label(ReadOnlySpan<byte> image, int topK);
}

public interface IEmbedder
{
    ValueTask<EmbedResponse> EmbedAsync(EmbedRequest request, CancellationToken ct);
}

public sealed class ChatMessage
{
    public string Role { get; set; } = "";

    public string Content { get; set; } = "";
}

public sealed class ChatRequest
{
    public List<ChatMessage> Messages { get; set; } = [];
}

public sealed class ChatResponse
{
    public string Content { get; set; } = "";
}

public sealed class ChatChunk
{
    public string Delta { get; set; } = "";
}

public interface IChatModel
{
    IAsyncEnumerable<string> GenerateAsync(ChatRequest request, CancellationToken ct);
}

internal static class Examples
{
    public static async Task AgentAsync(IModel model, ILoggerFactory loggerFactory, CancellationToken ct)
    {
        // SDK.md begin
        await using var agent = new AicpAgent(new AgentOptions
        {
            HubUrl = "http://127.0.0.1:5000", AgentId = "gpu-1", MaxConcurrency = 8, Protocol = HubProtocol.MessagePack,
        }, loggerFactory);
        agent.Handle<LabelRequest, LabelResponse>("image.label", async (request, task, ct) => await model.LabelAsync(request, ct));
        await agent.StartAsync(ct);   // connects and registers, retrying on the backoff; returns once registered
        // ... serve until asked to stop
        await agent.StopAsync(ct);    // drain: asks the hub for no new tasks, waits for in-flight handlers, disconnects
        // SDK.md end
    }

    public static void Untyped(AicpAgent agent, IModel model)
    {
        // SDK.md begin
        agent.Handle<LabelResponse>("image.label", (task, ct) =>
        {
            if (!task.TryGetBinary("image", out var image))
            {
                throw new AgentTaskException("invalid_image", "image must be bytes");
            }

            var topK = task.TryGetInt64("topK", out var k) ? (int)k : 3;
            return ValueTask.FromResult(model.Label(image.Span, topK));
        });
        // SDK.md end
    }

    public static void Streaming(AicpAgent agent, IChatModel model)
    {
        // SDK.md begin
        agent.Handle<ChatRequest, ChatResponse>("text.chat", async (request, task, ct) =>
        {
            var words = new List<string>();
            await foreach (var word in model.GenerateAsync(request, ct))
            {
                words.Add(word);
                await task.WriteChunkAsync(new ChatChunk { Delta = word }, ct); // nothing is sent unless task.IsStreaming
            }

            return new ChatResponse { Content = string.Concat(words) };
        });
        // SDK.md end
    }

    public static void Batch(AicpAgent agent, IModel model)
    {
        // SDK.md begin
        agent.HandleBatch<LabelRequest, LabelResponse>("image.label", async (batch, ct) =>
        {
            var labels = await model.LabelAsync(batch.Select(item => item.Request).ToList(), ct);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Succeed(labels[i]);             // or batch[i].Fail("invalid_image", "...")
            }
        }, new BatchOptions { MaxBatchSize = 32, MaxWait = TimeSpan.FromMilliseconds(5), MaxConcurrentBatches = 1 });
        // SDK.md end
    }

    public static void Hosted(HostApplicationBuilder builder)
    {
        // SDK.md begin
        builder.Services.AddAicpAgent("gpu-1", builder.Configuration.GetSection("Agents:gpu-1"), o => o.MaxConcurrency = 16)
            .AddHandler<LabelRequest, LabelResponse, LabelHandler>("image.label")
            .Configure((services, agent) => agent.Handle<EmbedRequest, EmbedResponse>("text.embed",
                (request, task, ct) => services.GetRequiredService<IEmbedder>().EmbedAsync(request, ct)))
            .AddNvmlGpuTelemetry();                                  // Aicp.Agent.Sdk.Gpu
        builder.Services.AddAicpAgent("cpu-1", builder.Configuration.GetSection("Agents:cpu-1"))
            .AddHandler<LabelRequest, LabelResponse, LabelHandler>("image.label");
        builder.Services.AddAicpTaskClient(builder.Configuration.GetSection("AicpClient"));
        builder.Services.AddHealthChecks().AddAicpAgentCheck("gpu-1");
        // SDK.md end
    }

    public static async Task SubmitAsync(byte[] png, CancellationToken ct)
    {
        // SDK.md begin
        await using var client = new AicpTaskClient(new AicpConnectionOptions { HubUrl = "http://127.0.0.1:5000", Protocol = HubProtocol.MessagePack });

        LabelResponse labels = await client.SubmitAsync<LabelRequest, LabelResponse>("image.label", new LabelRequest { Image = png },
            new SubmitOptions { Strategy = RoutingStrategy.LeastLoaded, Timeout = TimeSpan.FromSeconds(5), MaxAttempts = 2 }, ct);

        TaskResult result = await client.SubmitAsync("image.label", new { image = png }, cancellationToken: ct);
        if (result.GetStatus() == AicpTaskStatus.Completed)
        {
            var top = result.GetResult<LabelResponse>()!.Labels[0];
        }
        // SDK.md end
    }

    public static async Task SubmitStreamAsync(AicpTaskClient client, CancellationToken ct)
    {
        // SDK.md begin
        var stream = client.SubmitStream<ChatChunk>("text.chat", new ChatRequest { Messages = [new() { Role = "user", Content = "hi" }] });
        await foreach (var chunk in stream.WithCancellation(ct))
        {
            Console.Write(chunk.Delta);          // as the agent writes them
        }

        TaskResult result = await stream.Result; // exactly one final result, whatever its status
        // SDK.md end
    }

    public static async Task FailuresAsync(AicpTaskClient client, LabelRequest request)
    {
        // SDK.md begin
        try
        {
            await client.SubmitAsync<LabelRequest, LabelResponse>("image.label", request);
        }
        catch (AicpTaskFailedException ex) when (ex.Status == AicpTaskStatus.NoAgents)
        {
            // no agent serves image.label right now
        }
        // SDK.md end
    }
}

// SDK.md begin
public sealed class LabelHandler(IModel model) : IAgentHandler<LabelRequest, LabelResponse>
{
    public ValueTask<LabelResponse> HandleAsync(LabelRequest request, AgentTaskContext task, CancellationToken ct) => model.LabelAsync(request, ct);
}
// SDK.md end
