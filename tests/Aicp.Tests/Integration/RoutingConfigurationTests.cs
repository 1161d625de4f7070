using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aicp.Agent.Sdk.Client;
using Aicp.Hub.Hosting;
using Aicp.Hub.RoutingConfiguration;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aicp.Tests.Integration;

/// <summary>
/// The routing file (<c>Aicp:RoutingFile</c>) on a real hub over loopback sockets: its defaults applied to SignalR and
/// HTTP tasks and shown in status, reloaded on change, an invalid or missing version refused while the old rules stay,
/// and an invalid file at start-up listed with the other configuration problems.
/// </summary>
public sealed class RoutingConfigurationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("aicp-routing-").FullName;

    private string RoutingFile => Path.Combine(_directory, "routing.yaml");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Replaces the file in one rename, as an editor or a mounted config map does.</summary>
    private void Write(string yaml)
    {
        var temporary = RoutingFile + ".tmp";
        File.WriteAllText(temporary, yaml);
        File.Move(temporary, RoutingFile, overwrite: true);
    }

    /// <summary>The first reload of <paramref name="store"/> that <paramref name="match"/> accepts (a change may be seen more than once).</summary>
    private static Task<RoutingRulesReload> NextReload(RoutingRulesStore store, Func<RoutingRulesReload, bool> match)
    {
        var reloaded = new TaskCompletionSource<RoutingRulesReload>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnReload(RoutingRulesReload reload)
        {
            if (match(reload))
            {
                store.Reloaded -= OnReload;
                reloaded.TrySetResult(reload);
            }
        }

        store.Reloaded += OnReload;
        return reloaded.Task;
    }

    [Fact]
    public async Task Submit_CapabilityDefaultsInTheFile_UsedByTasksThatSetNoneOverSignalRAndHttp()
    {
        Write("capabilities:\n  image.label: { strategy: round-robin, timeoutMs: 4321, maxAttempts: 1 }\n");
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:RoutingFile"] = RoutingFile });
        await h.StartAgentAsync<double>("a1", (task, _) => ValueTask.FromResult(task.Timeout.TotalMilliseconds));
        var client = await h.StartClientAsync();
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };

        var defaulted = await client.SubmitAsync("image.label", null).DefaultTimeout();
        var own = await client.SubmitAsync("image.label", null, new SubmitOptions { Strategy = RoutingStrategy.LeastLoaded, Timeout = TimeSpan.FromSeconds(2) }).DefaultTimeout();
        using var posted = await http.PostAsync("/v1/tasks", JsonContent.Create(new { method = "image.label" })).DefaultTimeout();
        var overHttp = await posted.Content.ReadFromJsonAsync<JsonElement>().DefaultTimeout();

        Assert.Equal(("round-robin", 4321.0), (defaulted.Strategy, defaulted.Result!.Json.GetDouble()));
        Assert.Equal(("least-loaded", 2000.0), (own.Strategy, own.Result!.Json.GetDouble()));
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Equal(("round-robin", 4321.0), (overHttp.GetProperty("strategy").GetString(), overHttp.GetProperty("result").GetDouble()));
        var capabilities = await http.GetFromJsonAsync<JsonElement>("/v1/capabilities").DefaultTimeout();
        Assert.Equal("round-robin", capabilities.EnumerateArray().Single(c => c.GetProperty("method").GetString() == "image.label").GetProperty("defaultStrategy").GetString());
    }

    [Fact]
    public async Task Submit_FallbackChainInTheFile_ServedByTheFallbackOverSignalRAndHttp()
    {
        Write("capabilities:\n  text.chat: { fallbacks: [text.chat.small, text.echo], maxAttempts: 1 }\n");
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:RoutingFile"] = RoutingFile });
        await h.StartAgentAsync<JsonElement>("broken", (_, _) => throw new InvalidOperationException("broken"), method: "text.chat");
        await h.StartAgentAsync("echo", HubHarness.Echo("echo"), method: "text.echo");
        var client = await h.StartClientAsync();
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };

        var result = await client.SubmitAsync("text.chat", null).DefaultTimeout();
        var own = await client.SubmitAsync("text.chat", null, new SubmitOptions { Fallbacks = ["text.nobody"] }).DefaultTimeout();
        using var posted = await http.PostAsync("/v1/tasks", JsonContent.Create(new { method = "text.chat" })).DefaultTimeout();
        var overHttp = await posted.Content.ReadFromJsonAsync<JsonElement>().DefaultTimeout();

        Assert.Equal((TaskStatuses.Completed, "echo", 2), (result.Status, result.AgentId, result.Attempts));
        Assert.Equal([("broken", "text.chat", AttemptOutcomes.Error), ("", "text.chat.small", AttemptOutcomes.Skipped), ("echo", "text.echo", AttemptOutcomes.Completed)],
            result.Route!.Select(e => (e.AgentId, e.Method!, e.Outcome)));
        Assert.Equal((TaskStatuses.NoAgents, 1), (own.Status, own.Attempts)); // the request's chain replaced the file's
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Equal("echo", overHttp.GetProperty("agentId").GetString());
        Assert.Equal(["text.chat", "text.chat.small", "text.echo"], overHttp.GetProperty("route").EnumerateArray().Select(e => e.GetProperty("method").GetString()!));
        var stats = await http.GetFromJsonAsync<JsonElement>("/v1/stats").DefaultTimeout();
        Assert.Equal(5, stats.GetProperty("tasks").GetProperty("fallbacks").GetInt64()); // 2 + 1 + 2
    }

    [Fact]
    public async Task Submit_RouterMethod_ClassifiedOverSignalRAndHttp_CountedPerRule()
    {
        Write("""
            routers:
              auto:
                field: prompt
                rules:
                  - { name: image, pattern: '\.(png|jpe?g)\b', capability: image.label }
                default: text.chat
            """);
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:RoutingFile"] = RoutingFile });
        await h.StartAgentAsync("labeller", HubHarness.Echo("labeller"));
        await h.StartAgentAsync("chatter", HubHarness.Echo("chatter"), method: "text.chat");
        var client = await h.StartClientAsync();
        using var http = new HttpClient { BaseAddress = h.Hub.BaseUrl };

        var image = await client.SubmitAsync("auto", new { prompt = "what is in cat.PNG?" }).DefaultTimeout();
        var chat = await client.SubmitAsync("auto", new { prompt = "hello" }).DefaultTimeout();
        using var posted = await http.PostAsync("/v1/tasks", JsonContent.Create(new { method = "auto", payload = new { prompt = "see dog.jpg" } })).DefaultTimeout();
        var overHttp = await posted.Content.ReadFromJsonAsync<JsonElement>().DefaultTimeout();

        Assert.Equal(("labeller", "image", "image.label"), (image.AgentId, image.Intent!.Rule, image.Intent.Method));
        Assert.Equal(("chatter", "default", "text.chat"), (chat.AgentId, chat.Intent!.Rule, chat.Intent.Method));
        Assert.Equal("labeller", overHttp.GetProperty("agentId").GetString());
        Assert.Equal("""{"router":"auto","rule":"image","method":"image.label"}""", overHttp.GetProperty("intent").GetRawText());
        var metrics = await http.GetStringAsync("/metrics").DefaultTimeout();
        Assert.Contains("aicp_intent_routes_total{router=\"auto\",rule=\"image\"} 2", metrics);
        Assert.Contains("aicp_intent_routes_total{router=\"auto\",rule=\"default\"} 1", metrics);
    }

    [Fact]
    public async Task Submit_FileSetsOneAttempt_NoFailoverAfterTheFirstAgentFails()
    {
        Write("capabilities:\n  image.label: { maxAttempts: 1 }\n");
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:RoutingFile"] = RoutingFile });
        await h.StartAgentAsync<JsonElement>("bad", (_, _) => throw new InvalidOperationException("broken"));
        await h.StartAgentAsync("good", HubHarness.Echo("good"));
        var client = await h.StartClientAsync();

        var results = new List<TaskResult>();
        for (var i = 0; i < 6; i++)
        {
            results.Add(await client.SubmitAsync("image.label", null, new SubmitOptions { Strategy = RoutingStrategy.RoundRobin }).DefaultTimeout());
        }

        // Without the file each of these would fail over to 'good' (the hub's default is 3 attempts).
        Assert.All(results, r => Assert.Equal(1, r.Attempts));
        var failed = results.Where(r => r.Status == TaskStatuses.Failed).ToList();
        Assert.NotEmpty(failed);
        Assert.All(failed, r => Assert.Equal("bad", Assert.Single(r.Route).AgentId));
        Assert.All(results.Except(failed), r => Assert.Equal((TaskStatuses.Completed, "good"), (r.Status, Assert.Single(r.Route).AgentId)));
    }

    [Fact]
    public async Task FileChanges_ValidVersionTakesEffect_InvalidOrMissingOneRefusedLoggedAndOldKept()
    {
        Write("capabilities:\n  image.label: { strategy: round-robin }\n");
        var logs = new CapturingLoggerProvider();
        await using var h = await HubHarness.StartAsync(new Dictionary<string, string?> { ["Aicp:RoutingFile"] = RoutingFile }, logs: logs);
        var store = h.Hub.Services.GetRequiredService<RoutingRulesStore>();
        await h.StartAgentAsync("a1", HubHarness.Echo("a1"));
        var client = await h.StartClientAsync();
        Assert.Equal("round-robin", (await client.SubmitAsync("image.label", null).DefaultTimeout()).Strategy);

        // A valid new version: in force for the next task, without a restart.
        var applied = NextReload(store, r => r.Applied?.Capabilities["image.label"].Strategy == "least-loaded");
        Write("capabilities:\n  image.label: { strategy: least-loaded }\n");
        await applied.DefaultTimeout();
        Assert.Equal("least-loaded", (await client.SubmitAsync("image.label", null).DefaultTimeout()).Strategy);
        var inForce = store.Current;

        // An invalid one: refused with every problem, logged as an error; the rules in use stay.
        var refused = NextReload(store, r => r.Applied is null && r.Problems.Any(p => p.Contains("fastest", StringComparison.Ordinal)));
        Write("capabilities:\n  image.label: { strategy: fastest, maxAttempts: 0 }\n");
        var refusal = await refused.DefaultTimeout();

        Assert.Equal(2, refusal.Problems.Count);
        var logged = logs.Entries.First(e => e.EventId.Id == 6002);
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.Contains("'fastest' is not a known strategy", logged.Message);
        Assert.Contains("maxAttempts must be within 1..10; got 0", logged.Message);
        Assert.Same(inForce, store.Current);
        Assert.Equal("least-loaded", (await client.SubmitAsync("image.label", null).DefaultTimeout()).Strategy);

        // The file removed: refused as unreadable; the rules in use stay.
        var unreadable = NextReload(store, r => r.Applied is null && r.Problems.Any(p => p.Contains("cannot be read", StringComparison.Ordinal)));
        File.Delete(RoutingFile);
        await unreadable.DefaultTimeout();

        Assert.Same(inForce, store.Current);
        Assert.Equal("least-loaded", (await client.SubmitAsync("image.label", null).DefaultTimeout()).Strategy);
    }

    [Fact]
    public async Task Start_InvalidFile_RefusedWithEveryProblemListedWithTheOtherSettings()
    {
        Write("capabilities:\n  image.label: { strategy: fastest, timeoutMs: -5 }\n  Bad Name: {}\n");

        var error = await Assert.ThrowsAsync<AicpConfigurationException>(() => EmbeddedHub.StartAsync(new Dictionary<string, string?>
        {
            ["Aicp:RoutingFile"] = RoutingFile,
            ["Aicp:DefaultMaxAttempts"] = "0",
        }, b => b.Logging.ClearProviders())).DefaultTimeout();

        Assert.Equal(4, error.Problems.Count);
        Assert.Contains(error.Problems, p => p.StartsWith("Aicp:DefaultMaxAttempts must be within", StringComparison.Ordinal));
        Assert.Equal(3, error.Problems.Count(p => p.StartsWith($"Aicp:RoutingFile: {RoutingFile}: capabilities.", StringComparison.Ordinal)));
        Assert.Contains("'fastest' is not a known strategy", error.Message);
        Assert.Contains("capabilities.image.label.timeoutMs must be within 1..600000; got -5", error.Message);
        Assert.Contains("'Bad Name' is not a valid capability name", error.Message);
    }

    [Fact]
    public async Task Start_MissingFile_RefusedNamingIt()
    {
        var error = await Assert.ThrowsAsync<AicpConfigurationException>(() => EmbeddedHub.StartAsync(new Dictionary<string, string?>
        {
            ["Aicp:RoutingFile"] = RoutingFile,
        }, b => b.Logging.ClearProviders())).DefaultTimeout();

        Assert.StartsWith($"Aicp:RoutingFile: {RoutingFile}: cannot be read", Assert.Single(error.Problems));
    }
}
