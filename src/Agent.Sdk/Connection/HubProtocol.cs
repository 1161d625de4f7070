namespace Aicp.Agent.Sdk.Connection;

/// <summary>The SignalR hub protocol a connection speaks. The hub accepts both at once.</summary>
public enum HubProtocol
{
    /// <summary>SignalR's JSON protocol (text frames). Bytes travel as base64 strings.</summary>
    Json,

    /// <summary>SignalR's MessagePack protocol (binary frames). Bytes travel as <c>bin</c>; recommended for binary payloads.</summary>
    MessagePack,
}
