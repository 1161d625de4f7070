using Aicp.Protocol.MessagePack;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="MessagePackHubProtocol"/> with a SignalR server or client builder.</summary>
public static class MessagePackProtocolSignalRBuilderExtensions
{
    /// <summary>
    /// Adds the "messagepack" hub protocol (alongside JSON). Options are read through
    /// <see cref="IOptions{TOptions}"/> and validated when the protocol is first resolved.
    /// </summary>
    public static TBuilder AddAicpMessagePackProtocol<TBuilder>(this TBuilder builder, Action<MessagePackHubProtocolOptions>? configure = null)
        where TBuilder : ISignalRBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<MessagePackHubProtocolOptions>();
        if (configure is not null)
        {
            builder.Services.Configure(configure);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHubProtocol, MessagePackHubProtocol>(
            static services => new MessagePackHubProtocol(services.GetRequiredService<IOptions<MessagePackHubProtocolOptions>>().Value)));
        return builder;
    }
}
