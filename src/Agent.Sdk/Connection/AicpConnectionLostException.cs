namespace Aicp.Agent.Sdk.Connection;

/// <summary>
/// The connection to the hub ended while a task submitted on it was pending (the hub node stopped or died, or the
/// network failed). The task's fate is unknown to this client: the hub may have run it to completion, or not at all.
/// Submit it again only if it is idempotent. The client reconnects (to the next of its hub URLs) for its next calls.
/// </summary>
public sealed class AicpConnectionLostException(string message, Exception? inner) : Exception(message, inner);
