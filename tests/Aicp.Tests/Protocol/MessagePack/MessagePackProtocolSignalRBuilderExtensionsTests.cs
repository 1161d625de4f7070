using Aicp.Protocol.MessagePack;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace Aicp.Tests.Protocol.MessagePack;

public class MessagePackProtocolSignalRBuilderExtensionsTests
{
    [Fact]
    public void AddAicpMessagePackProtocol_CalledTwice_OneProtocolWithConfiguredOptions()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSignalR().AddAicpMessagePackProtocol(o => o.MaximumMessageSize = 8).AddAicpMessagePackProtocol();
        using var provider = services.BuildServiceProvider();

        var protocols = provider.GetServices<IHubProtocol>().ToList();

        var messagePack = Assert.Single(protocols, p => p.Name == "messagepack");
        Assert.IsType<MessagePackHubProtocol>(messagePack);
        var tooLarge = new System.Buffers.ReadOnlySequence<byte>([0x09]);
        Assert.Throws<MessagePackFormatException>(() => messagePack.TryParseMessage(ref tooLarge, new TestInvocationBinder(), out _));
    }
}
