using Aicp.Agent.Sdk.Client;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using Aicp.SampleAgents.Labelee;
using Aicp.SampleAgents.Labelling;
using Aicp.Tests.Infrastructure;
using Aicp.Tests.SampleAgents.Labelling;

namespace Aicp.Tests.SampleAgents;

/// <summary>The sample labelee behind a real hub: real digits labelled, bad images answered with typed errors.</summary>
public sealed class LabeleeIntegrationTests
{
    [Theory]
    [InlineData(1, HubProtocol.Json)]
    [InlineData(8, HubProtocol.Json)]
    [InlineData(1, HubProtocol.MessagePack)]
    [InlineData(8, HubProtocol.MessagePack)]
    public async Task Submit_HeldOutDigits_LabelledCorrectlyAndBadImagesRejected(int batchSize, HubProtocol protocol)
    {
        await using var h = await HubHarness.StartAsync(protocol: protocol);
        using var labeller = DigitLabeller.LoadDefault();
        await using var agent = LabeleeAgent.Create(h.Hub.BaseUrl.ToString(), new LabeleeProfile("labelee-1", 0, 0, 0, 16), labeller,
            protocol: protocol, batchSize: batchSize);
        await agent.StartAsync().DefaultTimeout();
        var client = await h.StartClientAsync();
        var data = MnistTestData.Get();

        var digits = data.TestIndices.Take(60).ToArray();
        var results = await Task.WhenAll(digits.Select(index => client.SubmitAsync(LabeleeAgent.Method,
            new { image = data.Image(index).ToArray(), topK = 2 }))).DefaultTimeout(); // base64 in JSON, bin over MessagePack

        Assert.All(results, r => Assert.Equal(TaskStatuses.Completed, r.Status));
        var correct = results.Zip(digits).Count(p => p.First.GetResult<LabelResponse>()!.Labels[0].Label == data.Labels[p.Second].ToString());
        Assert.True(correct >= 57, $"only {correct}/60 held-out digits labelled correctly");
        Assert.All(results, r => Assert.Equal(2, r.GetResult<LabelResponse>()!.Labels.Count));

        var notBase64 = await client.SubmitAsync(LabeleeAgent.Method, new { image = "%%%" }, new SubmitOptions { MaxAttempts = 1 }).DefaultTimeout();
        Assert.Equal(TaskStatuses.Failed, notBase64.Status);
        Assert.Equal(InvalidImageCodes.InvalidImage, notBase64.Error!.Code);

        var wrongSize = await client.SubmitAsync(LabeleeAgent.Method, new { image = Convert.ToBase64String(new byte[100]) }, new SubmitOptions { MaxAttempts = 1 }).DefaultTimeout();
        Assert.Equal(TaskStatuses.Failed, wrongSize.Status);
        Assert.Equal(InvalidImageCodes.InvalidImage, wrongSize.Error!.Code);
        await h.AssertNothingPendingAsync();
    }
}
