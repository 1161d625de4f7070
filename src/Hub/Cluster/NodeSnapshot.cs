using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aicp.Protocol;

namespace Aicp.Hub.Cluster;

/// <summary>
/// What one node publishes in Redis on each heartbeat (key <c>{prefix}:node:{node}</c>, JSON): its name, when it wrote
/// the snapshot, and a compact line per agent it holds. Other nodes read it with <see cref="TryParse"/>, which refuses
/// anything that is not exactly this shape with valid names and ranges: a value another program wrote, a truncated
/// one, or a node claiming another node's key.
/// </summary>
internal sealed record NodeSnapshot
{
    /// <summary>Largest snapshot read: 16 MiB (about 100,000 agents).</summary>
    public const int MaxBytes = 16 << 20;

    [JsonPropertyName("node")]
    public required string Node { get; init; }

    /// <summary>When the node wrote it, Unix milliseconds.</summary>
    [JsonPropertyName("at")]
    public long At { get; init; }

    [JsonPropertyName("agents")]
    public required IReadOnlyList<ClusterAgent> Agents { get; init; }

    private static readonly JsonSerializerOptions Json = new() { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>Writes the JSON into <paramref name="buffer"/> (a buffer reused across heartbeats: no large object per heartbeat).</summary>
    public void WriteJson(IBufferWriter<byte> buffer)
    {
        using var writer = new Utf8JsonWriter(buffer);
        JsonSerializer.Serialize(writer, this, Json);
    }

    /// <summary>The snapshot stored under <paramref name="node"/>'s key, or null with the reason it was refused.</summary>
    public static NodeSnapshot? TryParse(ReadOnlySpan<byte> json, string node, out string? problem)
    {
        NodeSnapshot? snapshot;
        if (json.Length > MaxBytes)
        {
            problem = $"{json.Length} bytes; at most {MaxBytes}.";
            return null;
        }

        try
        {
            snapshot = JsonSerializer.Deserialize<NodeSnapshot>(json, Json);
        }
        catch (JsonException ex)
        {
            problem = "not a node snapshot: " + ex.Message;
            return null;
        }

        problem = snapshot switch
        {
            null => "null.",
            { Node: var n } when n != node => $"written under node '{node}' but names node '{Truncate(n)}'.",
            { Agents: null } => "no agents list.",
            _ => snapshot.Agents.Select(ClusterAgent.Problem).FirstOrDefault(p => p is not null),
        };
        return problem is null ? snapshot : null;
    }

    private static string Truncate(string? value) => value is null ? "" : value.Length <= 64 ? value : value[..64] + "...";
}

/// <summary>One agent as its node publishes it (JSON in Redis) and the cluster status shows it (JSON and MessagePack).</summary>
[MessagePack.MessagePackObject]
public sealed record ClusterAgent
{
    [JsonPropertyName("id")]
    [MessagePack.Key("id")]
    public required string Id { get; init; }

    [JsonPropertyName("capabilities")]
    [MessagePack.Key("capabilities")]
    public required IReadOnlyList<string> Capabilities { get; init; }

    [JsonPropertyName("maxConcurrency")]
    [MessagePack.Key("maxConcurrency")]
    public int MaxConcurrency { get; init; }

    [JsonPropertyName("pending")]
    [MessagePack.Key("pending")]
    public int Pending { get; init; }

    [JsonPropertyName("draining")]
    [MessagePack.Key("draining")]
    public bool Draining { get; init; }

    [JsonPropertyName("healthy")]
    [MessagePack.Key("healthy")]
    public bool Healthy { get; init; }

    /// <summary>Why <paramref name="agent"/> is not a valid line, or null.</summary>
    internal static string? Problem(ClusterAgent? agent) => agent switch
    {
        null => "a null agent.",
        { Id: var id } when !Names.IsValid(id) => "an agent id that is not a valid name.",
        { Capabilities: null } => $"agent '{agent.Id}' has no capabilities list.",
        _ when agent.Capabilities.Count > ProtocolDefaults.MaxCapabilitiesPerAgent || !agent.Capabilities.All(Names.IsValid) =>
            $"agent '{agent.Id}' has more than {ProtocolDefaults.MaxCapabilitiesPerAgent} capabilities or an invalid one.",
        { MaxConcurrency: < 1 or > ProtocolDefaults.MaxConcurrencyLimit } => $"agent '{agent.Id}' has maxConcurrency {agent.MaxConcurrency}.",
        { Pending: < 0 } => $"agent '{agent.Id}' has pending {agent.Pending}.",
        _ => null,
    };
}
