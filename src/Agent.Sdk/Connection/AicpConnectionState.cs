namespace Aicp.Agent.Sdk.Connection;

/// <summary>Where an agent's or a task client's connection to the hub stands.</summary>
public enum AicpConnectionState
{
    /// <summary>Not started, or stopped.</summary>
    Disconnected,

    /// <summary>The first connect (and, for an agent, its registration) is under way.</summary>
    Connecting,

    /// <summary>Connected (an agent: and registered).</summary>
    Connected,

    /// <summary>The connection was lost; reconnecting on the backoff.</summary>
    Reconnecting,
}
