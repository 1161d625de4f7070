using System.Text.Json.Serialization;
using Aicp.Bench.Infrastructure;
using Aicp.Hub.Configuration;
using Aicp.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aicp.Bench.Roles;

/// <summary>
/// <c>echo-hub-proc</c>: the baseline. A bare SignalR hub whose one method returns its argument, configured like
/// the real hub (JSON protocol with the same serializer options, same parallel-invocation and message-size limits).
/// </summary>
internal static class EchoHubRole
{
    public const string Name = "echo-hub-proc";
    public const string Path = "/echo";

    public static async Task<int> RunAsync()
    {
        var link = ParentLink.Listen();
        var defaults = new AicpHubOptions();
        var builder = WebApplication.CreateBuilder(["--urls=http://127.0.0.1:0"]);
        builder.Logging.ClearProviders();
        builder.Services.AddSignalR(o =>
            {
                o.MaximumParallelInvocationsPerClient = defaults.MaxParallelInvocationsPerConnection;
                o.MaximumReceiveMessageSize = defaults.MaxMessageBytes;
            })
            .AddJsonProtocol(o => o.PayloadSerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)
            .AddMessagePackProtocol();
        await using var app = builder.Build();
        app.UseWebSockets();
        app.MapHub<EchoHub>(Path);
        await app.StartAsync();
        var address = app.Urls.First();
        ParentLink.Send($"ready {address}");
        await link.Stop;
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await app.StopAsync(stopping.Token);
        return 0;
    }
}

/// <summary>Returns what it gets: one hop, no routing. The payload is bound and written as the hub binds a task's payload.</summary>
internal sealed class EchoHub : Microsoft.AspNetCore.SignalR.Hub
{
    public TaskPayload? Echo(TaskPayload? payload) => payload;
}
