namespace Aicp.Hub.Configuration;

/// <summary>
/// Several hub nodes sharing one view of the fleet through Redis (<c>Aicp:Cluster</c>). Off unless
/// <see cref="Redis"/> is set: the embedded single-process hub needs no Redis.
/// </summary>
public sealed class ClusterOptions
{
    /// <summary>The Redis server, <c>HOST:PORT</c> (or any StackExchange.Redis configuration string). None by default: no cluster.</summary>
    public string? Redis { get; set; }

    /// <summary>This node's name in the cluster (a method-style name). The default value is the machine name and the hub's port.</summary>
    public string? NodeId { get; set; }

    /// <summary>How often the node publishes its agents and reads the others'. The default value is 1 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a node's entry lives without a heartbeat: a node that stops (or loses Redis) leaves the others' view at
    /// most this long after its last heartbeat. At least twice <see cref="HeartbeatInterval"/>. The default value is 5 s.
    /// </summary>
    public TimeSpan NodeTtl { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The prefix of every Redis key and channel, so several clusters can share one Redis. The default value is <c>aicp</c>.</summary>
    public string KeyPrefix { get; set; } = "aicp";

    /// <summary>
    /// How a node chooses between its own agents and the other nodes'. False (the default): the capability's strategy
    /// proposes a local agent, power of two choices proposes a remote one, and the remote one is chosen only when its
    /// load share is strictly lower (ties stay local) and the time that saves is worth the hop (<see cref="HopCostMs"/>). True: a task goes to another node only when none of this node's
    /// agents has a free slot (fewer hops across Redis, but a node keeps loading its own agents while others' sit idle).
    /// The default value is false.
    /// </summary>
    public bool PreferLocal { get; set; }

    /// <summary>
    /// What a hop to another node costs, in milliseconds, when a less loaded remote agent is weighed against this node's
    /// pick: the remote agent is chosen only when the time its lower load is expected to save (the difference of the
    /// two load shares times the local agent's latency estimate for the capability) is larger. Short tasks on agents far
    /// from full stay on their node, where a hop through Redis would cost more than it saves. 0 weighs load shares alone.
    /// The default value is 1 ms (a hop measured 0.26 ms at p50 on an idle machine, more under load).
    /// </summary>
    public double HopCostMs { get; set; } = 1;

    /// <summary>True when the hub is a node of a cluster.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Redis);
}
