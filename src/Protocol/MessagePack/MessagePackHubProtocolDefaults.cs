using System.Text.Json;
using Microsoft.AspNetCore.SignalR;

namespace Aicp.Protocol.MessagePack;

/// <summary>Default values of <see cref="MessagePackHubProtocolOptions"/>.</summary>
public static class MessagePackHubProtocolDefaults
{
    /// <summary>Largest accepted message body: 1 MiB of payload plus 64 KiB for the envelope. The default value is 1,114,112 bytes.</summary>
    public const int MaximumMessageSize = (1024 * 1024) + (64 * 1024);

    /// <summary>Deepest nesting of arrays/maps inside one argument, stream item or result. The default value is 64.</summary>
    public const int MaximumNestingDepth = MessagePackReader.DefaultMaxDepth;

    /// <summary>Upper bound accepted for <see cref="MessagePackHubProtocolOptions.MaximumNestingDepth"/> (the readers recurse once per level).</summary>
    public const int MaximumNestingDepthLimit = 1000;

    /// <summary>
    /// A new copy of the serializer options SignalR's JSON hub protocol uses by default (camelCase property names,
    /// case-insensitive binding, depth 64), taken from <see cref="JsonHubProtocolOptions"/> so the two stay equal.
    /// </summary>
    public static JsonSerializerOptions CreatePayloadSerializerOptions() => new JsonHubProtocolOptions().PayloadSerializerOptions;
}
