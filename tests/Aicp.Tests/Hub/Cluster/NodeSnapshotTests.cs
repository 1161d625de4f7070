using System.Text;
using Aicp.Hub.Cluster;

namespace Aicp.Tests.Hub.Cluster;

/// <summary>Node snapshots read from Redis: exactly the shape a node writes, under its own name, with valid names and ranges; anything else refused with a reason.</summary>
public sealed class NodeSnapshotTests
{
    private static NodeSnapshot? Parse(string json, string node, out string? problem) => NodeSnapshot.TryParse(Encoding.UTF8.GetBytes(json), node, out problem);

    [Fact]
    public void TryParse_WhatANodeWrites_ReadBack()
    {
        var written = new NodeSnapshot
        {
            Node = "node-2", At = 1_796_000_000_000,
            Agents = [new ClusterAgent { Id = "a1", Capabilities = ["image.label", "text.chat"], MaxConcurrency = 4, Pending = 3, Draining = true, Healthy = true }],
        };

        var read = NodeSnapshot.TryParse(written.ToJson(), "node-2", out var problem);

        Assert.Null(problem);
        Assert.Equal(("node-2", 1_796_000_000_000), (read!.Node, read.At));
        var agent = Assert.Single(read.Agents);
        Assert.Equal(("a1", 4, 3, true, true), (agent.Id, agent.MaxConcurrency, agent.Pending, agent.Draining, agent.Healthy));
        Assert.Equal(["image.label", "text.chat"], agent.Capabilities);
    }

    [Theory]
    [InlineData("not json", "not a node snapshot")]
    [InlineData("null", "null.")]
    [InlineData("""{"node":"other","at":0,"agents":[]}""", "written under node 'n1' but names node 'other'.")]
    [InlineData("""{"node":"n1","at":0}""", "not a node snapshot")] // agents is required
    [InlineData("""{"node":"n1","at":0,"agents":[],"extra":1}""", "not a node snapshot")]
    [InlineData("""{"node":"n1","at":0,"agents":[null]}""", "a null agent.")]
    [InlineData("""{"node":"n1","at":0,"agents":[{"id":"Bad Id","capabilities":[],"maxConcurrency":1}]}""", "an agent id that is not a valid name.")]
    [InlineData("""{"node":"n1","at":0,"agents":[{"id":"a","capabilities":["Bad!"],"maxConcurrency":1}]}""", "agent 'a' has more than 256 capabilities or an invalid one.")]
    [InlineData("""{"node":"n1","at":0,"agents":[{"id":"a","capabilities":[],"maxConcurrency":0}]}""", "agent 'a' has maxConcurrency 0.")]
    [InlineData("""{"node":"n1","at":0,"agents":[{"id":"a","capabilities":[],"maxConcurrency":100001}]}""", "agent 'a' has maxConcurrency 100001.")]
    [InlineData("""{"node":"n1","at":0,"agents":[{"id":"a","capabilities":[],"maxConcurrency":1,"pending":-1}]}""", "agent 'a' has pending -1.")]
    [InlineData("""{"node":"n1","at":"yesterday","agents":[]}""", "not a node snapshot")]
    public void TryParse_NotASnapshotOfThisNode_RefusedWithTheReason(string json, string reason)
    {
        Assert.Null(Parse(json, "n1", out var problem));

        Assert.Contains(reason, problem);
    }

    [Fact]
    public void TryParse_OverTheSizeLimit_RefusedBeforeParsing()
    {
        Assert.Null(NodeSnapshot.TryParse(new byte[NodeSnapshot.MaxBytes + 1], "n1", out var problem));

        Assert.Equal($"{NodeSnapshot.MaxBytes + 1} bytes; at most {NodeSnapshot.MaxBytes}.", problem);
    }

    [Theory]
    [InlineData(5000)]
    [InlineData(null)]
    public void DefaultNodeId_MachineNameAndPort_AValidName(int? port)
    {
        var id = ClusterMembership.DefaultNodeId(port);

        Assert.True(Aicp.Protocol.Names.IsValid(id), id);
        Assert.Equal(port is null, !id.EndsWith("-5000", StringComparison.Ordinal));
    }
}
