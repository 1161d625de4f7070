using Aicp.Agent.Sdk.Client;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Integration.Security;

/// <summary>Hijack attempts and foreign completions are refused, logged with their event ids and counted by kind.</summary>
public sealed class SecurityEventTests
{
    [Fact]
    public async Task Register_OutsideBinding_CountedAsBindingRefusedNotRoleRefused()
    {
        var logs = new CapturingLoggerProvider();
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured(), logs: logs);
        await using var agentKey = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl, TestCredentials.AgentKey);
        await using var submitterKey = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl, TestCredentials.SubmitterKey);

        await agentKey.InvokeAsync(HubMethods.Register, "1", new AgentRegistration { AgentId = "cpu-1", Capabilities = ["image.label"] });
        await agentKey.CompletionAsync("1");
        await submitterKey.InvokeAsync(HubMethods.Register, "2", new AgentRegistration { AgentId = "gpu-1", Capabilities = ["image.label"] });
        await submitterKey.CompletionAsync("2");

        var events = h.Counters.SecurityEvents();
        Assert.Equal(1, events["binding_refused"]);
        Assert.Equal(1, events["role_refused"]);
        Assert.Single(logs.Entries, e => e.EventId.Id == 4006 && e.Message.Contains("cpu-1", StringComparison.Ordinal));
        Assert.Single(logs.Entries, e => e.EventId.Id == 4002 && e.Message.Contains("Register", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Complete_ForAnotherConnectionsAttempt_IgnoredAndCountedAsForeignCompletion()
    {
        var logs = new CapturingLoggerProvider();
        await using var h = await HubHarness.StartAsync(TestCredentials.Secured(), logs: logs);
        await using var owner = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl, TestCredentials.AgentKey);
        await using var intruder = await RawHubSocket.ConnectAsync(h.Hub.BaseUrl, TestCredentials.WorkerKey);
        await owner.InvokeAsync(HubMethods.Register, "1", new AgentRegistration { AgentId = "gpu-1", Capabilities = ["image.label"], MaxConcurrency = 1 });
        await owner.CompletionAsync("1");
        await intruder.InvokeAsync(HubMethods.Register, "1", new AgentRegistration { AgentId = "other-1", Capabilities = ["text.embed"], MaxConcurrency = 1 });
        await intruder.CompletionAsync("1");
        var client = await h.StartClientAsync(TestCredentials.SubmitterKey);

        var submitted = client.SubmitAsync("image.label", null, new SubmitOptions { Timeout = TimeSpan.FromMilliseconds(30_000), MaxAttempts = 1 });
        var execute = await owner.InvocationAsync(HubMethods.Execute);
        var assignment = execute.GetProperty("arguments")[0];
        var taskId = assignment.GetProperty("taskId").GetString();
        await intruder.InvokeAsync(HubMethods.Complete, "c1", new TaskCompletion { TaskId = taskId!, Attempt = 1, Ok = true });
        await intruder.CompletionAsync("c1");
        Assert.Equal(1, h.Counters.ForeignCompletions);
        await owner.InvokeAsync(HubMethods.Complete, "c1", new TaskCompletion { TaskId = taskId!, Attempt = 1, Ok = true });
        var result = await submitted.DefaultTimeout();

        Assert.Equal(TaskStatuses.Completed, result.Status);
        Assert.Equal("gpu-1", result.AgentId);
        Assert.Equal(1, h.Counters.SecurityEvents()["foreign_completion"]);
        Assert.Contains(logs.Entries, e => e.EventId.Id == 2004);
    }
}
