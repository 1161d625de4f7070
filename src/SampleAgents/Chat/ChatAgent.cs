using System.Net.Security;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Connection;
using Microsoft.Extensions.Logging;

namespace Aicp.SampleAgents.Chat;

/// <summary>
/// Builds an agent that serves <c>text.chat</c> with the <see cref="DemoResponder"/>: it streams the answer word by word
/// (<c>{"delta":"word "}</c>, when the submitter streams) and returns the whole answer
/// (<c>{"content","finish_reason","usage"}</c>), the contract the hub's OpenAI door reads.
/// </summary>
internal static class ChatAgent
{
    public const string Method = "text.chat";

    /// <param name="wordDelay">A pause before each word, so that a person sees the answer stream.</param>
    /// <param name="certificateValidation">The hub's TLS certificate check for an https:// hub; null: the system's trust store.</param>
    public static AicpAgent Create(string hubUrl, string agentId, int concurrency = 16, TimeSpan wordDelay = default, ILoggerFactory? loggerFactory = null,
        HubProtocol protocol = HubProtocol.Json, string? accessToken = null, RemoteCertificateValidationCallback? certificateValidation = null)
    {
        var agent = new AicpAgent(new AgentOptions
        {
            HubUrl = hubUrl,
            AgentId = agentId,
            MaxConcurrency = concurrency,
            Protocol = protocol,
            AccessToken = accessToken,
            RemoteCertificateValidationCallback = certificateValidation,
            Metadata = new() { ["model"] = "demo-responder" },
        }, loggerFactory);
        agent.Handle<ChatRequest, ChatAnswer>(Method, async (request, task, ct) =>
        {
            var (pieces, answer) = DemoResponder.Reply(request ?? new ChatRequest());
            foreach (var piece in pieces)
            {
                if (wordDelay > TimeSpan.Zero)
                {
                    await Task.Delay(wordDelay, ct);
                }

                await task.WriteChunkAsync(new ChatDelta { Delta = piece }, ct);
            }

            return answer;
        });
        return agent;
    }
}
