using Microsoft.AspNetCore.SignalR;

namespace Aicp.Tests.Protocol;

/// <summary>An <see cref="IInvocationBinder"/> backed by dictionaries; unknown names throw like the server's binder.</summary>
internal sealed class TestInvocationBinder : IInvocationBinder
{
    public Dictionary<string, Type[]> ParameterTypes { get; } = new();

    public Dictionary<string, Type> ReturnTypes { get; } = new();

    public Dictionary<string, Type> StreamItemTypes { get; } = new();

    public TestInvocationBinder Method(string target, params Type[] parameterTypes)
    {
        ParameterTypes[target] = parameterTypes;
        return this;
    }

    public TestInvocationBinder Returns(string invocationId, Type type)
    {
        ReturnTypes[invocationId] = type;
        return this;
    }

    public TestInvocationBinder Streams(string streamId, Type type)
    {
        StreamItemTypes[streamId] = type;
        return this;
    }

    public IReadOnlyList<Type> GetParameterTypes(string methodName) =>
        ParameterTypes.TryGetValue(methodName, out var types) ? types : throw new InvalidOperationException($"Unknown hub method '{methodName}'.");

    public Type GetReturnType(string invocationId) =>
        ReturnTypes.TryGetValue(invocationId, out var type) ? type : throw new InvalidOperationException($"Unknown invocation '{invocationId}'.");

    public Type GetStreamItemType(string streamId) =>
        StreamItemTypes.TryGetValue(streamId, out var type) ? type : throw new InvalidOperationException($"Unknown stream '{streamId}'.");
}
