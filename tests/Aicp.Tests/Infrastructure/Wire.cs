using System.Text.Json;
using Aicp.Agent.Sdk.Connection;

namespace Aicp.Tests.Infrastructure;

/// <summary>The wire's JSON conventions, as the SDK uses them (camelCase, case-insensitive, nulls left out).</summary>
internal static class Wire
{
    public static JsonSerializerOptions Options { get; } = AicpConnectionOptions.CreateSerializerOptions();
}
