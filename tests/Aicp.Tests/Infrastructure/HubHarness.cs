using System.Text.Json;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Hub.Dispatch;
using Aicp.Hub.Observability;
using Aicp.Hub.Registry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aicp.Tests.Infrastructure;

/// <summary>A real hub on a loopback port plus the agents and clients a test starts against it; disposes them all.</summary>
public sealed class HubHarness : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    private HubHarness(HubFactory hub, HubProtocol protocol)
    {
        Hub = hub;
        Protocol = protocol;
    }

    /// <summary>The wire protocol the harness's agents and clients speak.</summary>
    public HubProtocol Protocol { get; }

    /// <summary>The hub: its own Program hosted by Mvc.Testing on a loopback port.</summary>
    public HubFactory Hub { get; private set; }

    internal AgentRegistry Registry => Hub.Services.GetRequiredService<AgentRegistry>();

    internal HubCounters Counters => Hub.Services.GetRequiredService<HubCounters>();

    internal TaskDispatcher Dispatcher => Hub.Services.GetRequiredService<TaskDispatcher>();

    public static Task<HubHarness> StartAsync(IDictionary<string, string?>? settings = null, string url = "http://127.0.0.1:0",
        ILoggerProvider? logs = null, HubProtocol protocol = HubProtocol.Json) =>
        Task.Run(() => new HubHarness(StartHub(settings, url, logs), protocol));

    /// <summary>Stops the hub and starts a new one on the same address (agents must reconnect).</summary>
    public async Task RestartHubAsync(IDictionary<string, string?>? settings = null)
    {
        var url = Hub.BaseUrl.ToString().TrimEnd('/');
        await Hub.DisposeAsync();
        Hub = await Task.Run(() => StartHub(settings, url));
    }

    /// <summary>Starts an agent whose handler answers with a JSON value (an undefined one: no result).</summary>
    public Task<AicpAgent> StartAgentAsync(string id, Func<AgentTaskContext, CancellationToken, ValueTask<JsonElement>> handler, int maxConcurrency = 8,
        string method = "image.label", string? accessToken = null, Action<AgentOptions>? configure = null) =>
        StartAgentAsync<JsonElement>(id, handler, maxConcurrency, method, accessToken, configure);

    public async Task<AicpAgent> StartAgentAsync<TResponse>(string id, Func<AgentTaskContext, CancellationToken, ValueTask<TResponse>> handler, int maxConcurrency = 8, string method = "image.label",
        string? accessToken = null, Action<AgentOptions>? configure = null)
    {
        var options = new AgentOptions
        {
            HubUrl = Hub.BaseUrl.ToString(), AgentId = id, MaxConcurrency = maxConcurrency, Protocol = Protocol, AccessToken = accessToken,
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(50), ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
            DrainTimeout = TimeSpan.FromSeconds(5),
            LoadReportInterval = TimeSpan.Zero, // reports only when a test sends one: status snapshots stay comparable
        };
        configure?.Invoke(options);
        var agent = new AicpAgent(options);
        agent.Handle(method, handler);
        _owned.Add(agent);
        await agent.StartAsync().DefaultTimeout();
        return agent;
    }

    public async Task<AicpTaskClient> StartClientAsync(string? accessToken = null, Action<AicpConnectionOptions>? configure = null)
    {
        var options = new AicpConnectionOptions { HubUrl = Hub.BaseUrl.ToString(), Protocol = Protocol, AccessToken = accessToken };
        configure?.Invoke(options);
        var client = new AicpTaskClient(options);
        _owned.Add(client);
        await client.ConnectAsync().DefaultTimeout();
        return client;
    }

    /// <summary>An HTTP client for the hub's routes, presenting <paramref name="token"/> as a bearer credential when given.</summary>
    public HttpClient HttpClient(string? token = null)
    {
        var http = new HttpClient { BaseAddress = Hub.BaseUrl, Timeout = TestTimeouts.Default };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return http;
    }

    /// <summary>A JSON request body, as written (malformed ones included).</summary>
    public static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    /// <summary>Keeps an object the test created for disposal with the harness.</summary>
    public T Own<T>(T owned) where T : IAsyncDisposable
    {
        _owned.Add(owned);
        return owned;
    }

    /// <summary>Waits until every agent's pending count and the in-flight table are back to zero.</summary>
    public Task AssertNothingPendingAsync() => TestTimeouts.Eventually(
        () => Registry.Agents.All(a => a.Pending == 0) && Dispatcher.InFlightCount == 0,
        "every pending count back to 0");

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            try
            {
                await owned.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception)
            {
                // a test that aborted a client on purpose may leave it half-closed
            }
        }

        await Hub.DisposeAsync();
    }

    private static HubFactory StartHub(IDictionary<string, string?>? settings, string url, ILoggerProvider? logs = null)
    {
        var factory = new HubFactory(settings, logs);
        try
        {
            return factory.StartOnLoopback(url);
        }
        catch
        {
            factory.Dispose();
            throw;
        }
    }

    /// <summary>A handler that answers at once with the agent's id.</summary>
    public static Func<AgentTaskContext, CancellationToken, ValueTask<JsonElement>> Echo(string id) =>
        (task, _) => ValueTask.FromResult(JsonSerializer.SerializeToElement(new { agent = id, attempt = task.Attempt }));
}
