using System.Text.Json;

namespace Aicp.Protocol.MessagePack;

/// <summary>Settings of <see cref="MessagePackHubProtocol"/>; validated once, when the protocol is constructed.</summary>
public sealed class MessagePackHubProtocolOptions
{
    /// <summary>
    /// Largest message body, in bytes, that the protocol accepts (the VarInt length prefix not included). A prefix
    /// announcing more fails at once, before the body arrives. Must be 1 to 2,147,483,647.
    /// The default value is <see cref="MessagePackHubProtocolDefaults.MaximumMessageSize"/> (1 MiB + 64 KiB).
    /// </summary>
    public int MaximumMessageSize { get; set; } = MessagePackHubProtocolDefaults.MaximumMessageSize;

    /// <summary>
    /// Deepest nesting of arrays and maps inside one argument, stream item or result. Must be 1 to
    /// <see cref="MessagePackHubProtocolDefaults.MaximumNestingDepthLimit"/>. The default value is 64.
    /// </summary>
    public int MaximumNestingDepth { get; set; } = MessagePackHubProtocolDefaults.MaximumNestingDepth;

    /// <summary>
    /// Serializer options used to bind arguments and to serialize values. The default value is a copy of SignalR's
    /// JSON hub protocol defaults (<see cref="MessagePackHubProtocolDefaults.CreatePayloadSerializerOptions"/>).
    /// </summary>
    public JsonSerializerOptions PayloadSerializerOptions { get; set; } = MessagePackHubProtocolDefaults.CreatePayloadSerializerOptions();

    /// <summary>Throws one <see cref="ArgumentException"/> listing every invalid setting.</summary>
    internal void Validate()
    {
        var errors = new List<string>();
        if (MaximumMessageSize <= 0)
        {
            errors.Add($"{nameof(MaximumMessageSize)} must be positive (was {MaximumMessageSize}).");
        }

        if (MaximumNestingDepth is < 1 or > MessagePackHubProtocolDefaults.MaximumNestingDepthLimit)
        {
            errors.Add($"{nameof(MaximumNestingDepth)} must be 1 to {MessagePackHubProtocolDefaults.MaximumNestingDepthLimit} (was {MaximumNestingDepth}).");
        }

        if (PayloadSerializerOptions is null)
        {
            errors.Add($"{nameof(PayloadSerializerOptions)} is required.");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid MessagePack hub protocol options: " + string.Join(" ", errors));
        }
    }
}
