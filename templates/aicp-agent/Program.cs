using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// One agent, configured from appsettings.json (section Agent), the environment (Agent__HubUrl=...) or the command
// line (--Agent:HubUrl=...). It registers "text.echo", reconnects forever, and drains when the host stops (Ctrl+C, SIGTERM).
var builder = Host.CreateApplicationBuilder(args);
var section = builder.Configuration.GetSection("Agent");
builder.Services.AddAicpAgent(section["AgentId"] ?? "echo-1", section)
    .AddHandler<EchoRequest, EchoResponse, EchoHandler>("text.echo");
await builder.Build().RunAsync();

/// <summary>What <c>text.echo</c> takes.</summary>
public sealed record EchoRequest(string Text);

/// <summary>What it answers.</summary>
public sealed record EchoResponse(string Text, int Length, string Agent);

/// <summary>The handler: resolved from a new dependency-injection scope for every task.</summary>
public sealed class EchoHandler : IAgentHandler<EchoRequest, EchoResponse>
{
    public ValueTask<EchoResponse> HandleAsync(EchoRequest request, AgentTaskContext task, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new EchoResponse(request.Text, request.Text.Length, Environment.MachineName));
}
