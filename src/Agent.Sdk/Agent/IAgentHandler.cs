namespace Aicp.Agent.Sdk.Agent;

/// <summary>
/// A typed handler resolved from dependency injection, one instance per task in its own scope
/// (<c>services.AddAicpAgent(...).AddHandler&lt;TRequest, TResponse, THandler&gt;(method)</c>).
/// </summary>
/// <typeparam name="TRequest">What the payload binds to.</typeparam>
/// <typeparam name="TResponse">The result; written in the connection's protocol.</typeparam>
public interface IAgentHandler<in TRequest, TResponse>
{
    /// <summary>Runs one task. Throw <see cref="AgentTaskException"/> to fail it with a code.</summary>
    ValueTask<TResponse> HandleAsync(TRequest request, AgentTaskContext task, CancellationToken cancellationToken);
}
