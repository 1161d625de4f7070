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

/// <summary>Messages between nodes: exactly the shapes a node writes; anything else refused with a reason.</summary>
public sealed class PeerMessageTests
{
    [Fact]
    public void TryParse_AnExecuteAsANodeWritesIt_ReadBack()
    {
        var payload = Aicp.Protocol.TaskPayload.FromJson(System.Text.Json.JsonDocument.Parse("""{"image":"AAEC","n":[1,2]}""").RootElement);
        var written = new PeerMessage
        {
            Type = PeerMessage.Execute, From = "node-2", TaskId = "4f0cabc", Attempt = 3, AgentId = "a1", Method = "image.label", TimeoutMs = 5000, Payload = payload,
        };

        var read = PeerMessage.TryParse(written.ToJson(), PeerMessage.MaxBytesFor(1 << 20), out var problem);

        Assert.Null(problem);
        Assert.Equal(("node-2", "4f0cabc", 3, "a1", "image.label", 5000), (read!.From, read.TaskId, read.Attempt, read.AgentId, read.Method, read.TimeoutMs));
        Assert.Equal("""{"image":"AAEC","n":[1,2]}""", read.Payload!.ToString());
    }

    [Fact]
    public void TryParse_MessagePackPayloadAndResult_KeepTheirEncoding()
    {
        // {"image": bin [0, 1, 2]}: a bin has no JSON form but base64 text; across nodes it must stay a bin
        var payload = Aicp.Protocol.TaskPayload.FromMessagePack(new byte[] { 0x81, 0xA5, (byte)'i', (byte)'m', (byte)'a', (byte)'g', (byte)'e', 0xC4, 3, 0, 1, 2 });
        var result = Aicp.Protocol.TaskPayload.FromMessagePack(new byte[] { 0x93, 1, 2, 3 });
        var execute = new PeerMessage
        {
            Type = PeerMessage.Execute, From = "node-2", TaskId = "4f0cabc", Attempt = 1, AgentId = "a1", Method = "image.label", TimeoutMs = 5000, Payload = payload,
        };
        var answer = new PeerMessage { Type = PeerMessage.Result, From = "node-1", TaskId = "4f0cabc", Attempt = 1, Outcome = "completed", ResultPayload = result };

        var readExecute = PeerMessage.TryParse(execute.ToJson(), PeerMessage.MaxBytesFor(1 << 20), out var problem);
        var readAnswer = PeerMessage.TryParse(answer.ToJson(), PeerMessage.MaxBytesFor(1 << 20), out var answerProblem);

        Assert.Null(problem ?? answerProblem);
        Assert.True(readExecute!.Payload!.IsMessagePack);
        Assert.Equal(payload.MessagePack.ToArray(), readExecute.Payload.MessagePack.ToArray());
        Assert.True(readExecute.Payload.TryGetBinary("image", out var image));
        Assert.Equal(new byte[] { 0, 1, 2 }, image.ToArray());
        Assert.True(readAnswer!.ResultPayload!.IsMessagePack);
        Assert.Equal(new byte[] { 0x93, 1, 2, 3 }, readAnswer.ResultPayload.MessagePack.ToArray());
        Assert.DoesNotContain("\"payload\"", System.Text.Encoding.UTF8.GetString(execute.ToJson()), StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_LargestPayloadTheHubTakes_FitsAsBase64_OneByteMoreRefused()
    {
        const int frame = 300_000;
        var bytes = new byte[frame];
        bytes[0] = 0xC6; // bin 32 holding the rest
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(1), frame - 5);
        var execute = new PeerMessage
        {
            Type = PeerMessage.Execute, From = "node-2", TaskId = "4f0cabc", Attempt = 1, AgentId = "a1", Method = "image.label", TimeoutMs = 5000,
            Payload = Aicp.Protocol.TaskPayload.FromMessagePack(bytes),
        };
        var json = execute.ToJson();

        Assert.NotNull(PeerMessage.TryParse(json, PeerMessage.MaxBytesFor(frame), out _));
        Assert.Null(PeerMessage.TryParse(json, json.Length - 1, out var problem));
        Assert.Equal($"{json.Length} bytes; at most {json.Length - 1}.", problem);
    }

    [Theory]
    [InlineData("nope", "not a node message")]
    [InlineData("""{"type":"chunk","from":"n1","taskId":"t1","attempt":1}""", "a chunk without its payload.")]
    [InlineData("""{"type":"result","from":"n1","taskId":"t1","attempt":1,"outcome":"completed","resultMessagePack":"kwEC"}""", "not a node message")]
    [InlineData("""{"type":"execute","from":"n1","taskId":"t1","attempt":1,"agentId":"a1","method":"m","timeoutMs":5,"extra":1}""", "not a node message")]
    [InlineData("""{"type":"execute","from":"n1","taskId":"t1","attempt":1,"agentId":"a1","method":"m"}""", "an execute without a valid timeoutMs.")]
    [InlineData("""{"type":"execute","from":"n1","taskId":"t1","attempt":1,"method":"m","timeoutMs":5}""", "an execute without a valid agent or method.")]
    [InlineData("""{"type":"result","from":"n1","taskId":"t1","attempt":1}""", "a result without a valid outcome.")]
    [InlineData("""{"type":"refused","from":"n1","taskId":"t1","attempt":1}""", "a refusal without its error.")]
    [InlineData("""{"type":"cancel","from":"N 1","taskId":"t1","attempt":1}""", "a sender that is not a node name.")]
    [InlineData("""{"type":"cancel","from":"n1","taskId":"t-1","attempt":1}""", "a task id that is not one.")]
    [InlineData("""{"type":"cancel","from":"n1","taskId":"t1","attempt":0}""", "attempt 0.")]
    [InlineData("""{"type":"launch","from":"n1","taskId":"t1","attempt":1}""", "an unknown type 'launch'.")]
    public void TryParse_NotAMessage_RefusedWithTheReason(string json, string reason)
    {
        Assert.Null(PeerMessage.TryParse(System.Text.Encoding.UTF8.GetBytes(json), PeerMessage.MaxBytesFor(1 << 20), out var problem));

        Assert.Contains(reason, problem);
    }
}
