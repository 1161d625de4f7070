namespace Aicp.Agent.Sdk.Agent;

/// <summary>Thrown by a handler to end its task with an error the submitter sees: a machine-readable code and a message.</summary>
public sealed class AgentTaskException(string code, string message) : Exception(message)
{
    /// <summary>The error code, e.g. <c>invalid_image</c>.</summary>
    public string Code { get; } = code;
}
