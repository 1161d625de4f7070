using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Aicp.Protocol;
using Aicp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Aicp.Tests.Integration;

/// <summary>
/// Thousands of randomized and malformed SignalR frames from several raw WebSocket connections while a
/// well-behaved agent and submitter work alongside. The generator is seeded, so a failure replays.
/// </summary>
[Collection(SoloCollection.Name)]
public sealed class FuzzIntegrationTests(ITestOutputHelper output)
{
    private const int Connections = 4;
    private const int FramesPerConnection = 850; // per round; three rounds: 4 x 850 x 3 = 10,200 frames
    private const int Seed = 20_261_121;

    [Fact]
    public async Task Hub_TenThousandMalformedInvocations_StaysUpAndWellBehavedClientSeesNoError()
    {
        var logs = new CapturingLoggerProvider();
        await using var h = await HubHarness.StartAsync(logs: logs);
        await h.StartAgentAsync("good", HubHarness.Echo("good"));
        var client = await h.StartClientAsync();
        Assert.Equal(TaskStatuses.Completed, (await client.SubmitAsync("image.label", null).DefaultTimeout()).Status);
        var memoryBefore = GC.GetTotalMemory(forceFullCollection: true);

        var wellBehaved = new WellBehavedSubmitter(client, "image.label");

        // Three identical rounds: the first warms the buffer pools and the thread pool; the later ones must
        // not keep growing the heap the way a per-frame or per-connection leak would.
        var started = DateTime.UtcNow;
        var round1 = await FuzzRoundAsync(h.Hub.BaseUrl, Seed);
        var memoryAfterRound1 = GC.GetTotalMemory(forceFullCollection: true);
        var round2 = await FuzzRoundAsync(h.Hub.BaseUrl, Seed);
        var memoryAfterRound2 = GC.GetTotalMemory(forceFullCollection: true);
        var round3 = await FuzzRoundAsync(h.Hub.BaseUrl, Seed);
        await wellBehaved.StopAsync();
        var elapsed = DateTime.UtcNow - started;
        var stats = round1.Concat(round2).Concat(round3).ToArray();

        var sent = stats.Sum(s => s.Sent);
        var reconnects = stats.Sum(s => s.Reconnects);
        output.WriteLine($"{sent} frames from {Connections} connections in {elapsed.TotalSeconds:F1} s; {reconnects} connections closed by the hub and reopened; well-behaved client: {wellBehaved.Results} tasks");

        // The hub is up and still serves; everything the fuzzers left behind drains away.
        Assert.True(sent >= 10_000);
        Assert.True(reconnects > 0, "no malformed frame closed a connection");
        Assert.Empty(wellBehaved.Failures);
        Assert.True(wellBehaved.Results > 0);
        Assert.Equal(TaskStatuses.Completed, (await client.SubmitAsync("image.label", null).DefaultTimeout()).Status);
        await TestTimeouts.Eventually(() => h.Registry.Count == 1 && h.Registry.GetById("good") is not null, "only the good agent left registered");
        await h.AssertNothingPendingAsync();

        var hubErrors = logs.Errors("Aicp.");
        Assert.True(hubErrors.Count == 0, string.Join(Environment.NewLine, hubErrors.Take(5).Select(e => $"{e.Category}: {e.Message} {e.Exception}")));
        var unhandled = logs.Entries.Where(e => e.Category.Contains("DefaultHubDispatcher") && e.Exception is not null
            && e.Exception is not (InvalidDataException or JsonException or FormatException)).ToList();
        Assert.True(unhandled.Count == 0, string.Join(Environment.NewLine, unhandled.Take(5).Select(e => $"{e.Category}: {e.Message} {e.Exception}")));

        var memoryAfter = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"{logs.Entries.Count} log entries, {logs.Entries.Sum(e => e.Message.Length + (e.Exception?.ToString().Length ?? 0))} chars; " + string.Join("; ", logs.Entries.GroupBy(e => e.Category + "/" + e.EventId.Name).Select(g => $"{g.Key}={g.Count()}")));
        output.WriteLine($"DIAG pools={h.Registry.Pools.Count()} agents={h.Registry.Count} inflight={h.Dispatcher.InFlightCount} counters={string.Join(",", h.Counters.Snapshot().Select(kv => kv.Key + "=" + kv.Value))}");
        output.WriteLine($"managed heap {memoryBefore >> 20} MiB before, {memoryAfterRound1 >> 20} MiB after round 1, {memoryAfterRound2 >> 20} after round 2, {memoryAfter >> 20} MiB after round 3, threads {System.Threading.ThreadPool.ThreadCount}");
        // Pooled buffers (ArrayPool, Kestrel's block pool) sized for the 50-300 KB legal payloads are kept per thread and
        // grow with peak concurrency, which a loaded machine raises; the bounds leave room for that and still catch a
        // leak per frame or per connection (10,200 frames and ~150 connections a round).
        Assert.True(memoryAfter - memoryAfterRound2 < 96L << 20, $"the third round grew the managed heap by {(memoryAfter - memoryAfterRound2) >> 20} MiB");
        Assert.True(memoryAfter - memoryBefore < 384L << 20, $"managed heap grew by {(memoryAfter - memoryBefore) >> 20} MiB");
    }

    private readonly record struct FuzzStats(int Sent, int Reconnects);

    private static Task<FuzzStats[]> FuzzRoundAsync(Uri hub, int seed) =>
        Task.WhenAll(Enumerable.Range(0, Connections).Select(i => Task.Run(() => FuzzAsync(hub, seed + i)))).WaitAsync(TimeSpan.FromSeconds(60));

    private static async Task<FuzzStats> FuzzAsync(Uri hub, int seed)
    {
        var random = new Random(seed);
        var generator = new FrameGenerator(random);
        var socket = await RawHubSocket.ConnectAsync(hub, keep: false);
        var sent = 0;
        var reconnects = 0;
        try
        {
            while (sent < FramesPerConnection)
            {
                if (!socket.IsOpen)
                {
                    await socket.DisposeAsync();
                    socket = await RawHubSocket.ConnectAsync(hub, keep: false);
                    reconnects++;
                }

                var (bytes, type) = generator.Next();
                try
                {
                    await socket.SendRawAsync(bytes, type);
                }
                catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or TimeoutException or OperationCanceledException)
                {
                    socket.Abort(); // the hub closed it mid-send; the next round reconnects
                }

                sent++;
            }
        }
        finally
        {
            await socket.DisposeAsync();
        }

        return new FuzzStats(sent, reconnects);
    }

    /// <summary>Produces one WebSocket message per call: mostly well-framed invocations with hostile content, some broken frames.</summary>
    private sealed class FrameGenerator(Random random)
    {
        private static readonly string[] Targets = [HubMethods.Submit, HubMethods.Register, HubMethods.Complete, HubMethods.Drain];
        private int _ids;

        public (byte[] Bytes, WebSocketMessageType Type) Next()
        {
            var roll = random.Next(1000);
            return roll switch
            {
                < 300 => Text(Invocation(HubMethods.Submit, [RandomRequest()])),
                < 400 => Text(Invocation(HubMethods.Register, [RandomRegistration()])),
                < 550 => Text(Invocation(HubMethods.Complete, [RandomCompletion()])),
                < 580 => Text(Invocation(HubMethods.Drain, random.Next(2) == 0 ? [] : [RandomValue(2)])),
                < 650 => Text(Invocation(RandomString(40), [RandomValue(2)])), // unknown hub method
                < 700 => Text(Invocation(Targets[random.Next(Targets.Length)], [.. Enumerable.Range(0, random.Next(2, 5)).Select(_ => RandomValue(1))])), // wrong argument count
                < 760 => Text(RandomMessageType()),
                < 800 => Text(Invocation(HubMethods.Submit, [new Dictionary<string, object?> { ["method"] = "fz.sink", ["payload"] = RandomValue(2), ["timeoutMs"] = random.Next(1, 200), ["maxAttempts"] = random.Next(1, 3) }])),
                < 815 => Text(Invocation(HubMethods.Submit, [new Dictionary<string, object?> { ["method"] = RandomName(), ["payload"] = new string('p', random.Next(50_000, 300_000)) }])), // huge but legal
                < 818 => Text(Invocation(HubMethods.Submit, [new Dictionary<string, object?> { ["method"] = new string('m', 1_200_000) }])), // over the frame limit: closed
                < 850 => Truncated(),
                < 880 => (RandomBytes(), WebSocketMessageType.Text), // not JSON at all: closed
                < 900 => (Encoding.UTF8.GetBytes(Invocation(HubMethods.Submit, [RandomRequest()]) + RawHubSocket.RecordSeparator), WebSocketMessageType.Binary),
                < 910 => Text("{\"type\":7}"), // client Close message
                < 940 => Text(Invocation(HubMethods.Submit, [RandomRequest()], invocationId: RandomValue(0))), // invocation id of any type
                _ => Text(Invocation(HubMethods.Submit, [new Dictionary<string, object?> { ["method"] = RandomName(), ["strategy"] = random.Next(3) == 0 ? RandomString(20) : null, ["timeoutMs"] = random.Next(-5, 700_000), ["maxAttempts"] = random.Next(-2, 15) }])),
            };
        }

        private static (byte[], WebSocketMessageType) Text(string record) =>
            (Encoding.UTF8.GetBytes(record + RawHubSocket.RecordSeparator), WebSocketMessageType.Text);

        private string Invocation(string target, object?[] arguments, object? invocationId = null) =>
            JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["type"] = 1,
                ["invocationId"] = invocationId ?? (random.Next(2) == 0 ? null : (++_ids).ToString()),
                ["target"] = target,
                ["arguments"] = arguments,
            });

        private string RandomMessageType() => random.Next(6) switch
        {
            0 => JsonSerializer.Serialize(new { type = random.Next(-5, 30), target = RandomString(10), arguments = new[] { RandomValue(1) } }),
            1 => JsonSerializer.Serialize(new { type = 5, invocationId = RandomString(8) }), // cancel of an unknown invocation
            2 => JsonSerializer.Serialize(new { type = 3, invocationId = RandomString(8), result = RandomValue(2) }), // a completion nobody asked for
            3 => JsonSerializer.Serialize(new { type = 4, invocationId = RandomString(4), target = HubMethods.Submit, arguments = new[] { RandomRequest() } }), // stream invocation of a non-stream method
            4 => "{\"type\":6}",
            _ => JsonSerializer.Serialize(new { target = HubMethods.Submit, arguments = new[] { RandomRequest() } }), // no type
        };

        private (byte[], WebSocketMessageType) Truncated()
        {
            var whole = Encoding.UTF8.GetBytes(Invocation(HubMethods.Submit, [RandomRequest()]));
            var cut = whole[..random.Next(1, whole.Length)];
            // Either a record cut short (invalid JSON, closed) or a partial record the next frame will run into.
            return random.Next(2) == 0 ? ([.. cut, (byte)RawHubSocket.RecordSeparator], WebSocketMessageType.Text) : (cut, WebSocketMessageType.Text);
        }

        private Dictionary<string, object?> RandomRequest() => new()
        {
            ["method"] = random.Next(3) == 0 ? RandomValue(1) : RandomName(),
            ["payload"] = RandomValue(3),
            ["strategy"] = random.Next(4) == 0 ? RandomValue(0) : null,
            ["timeoutMs"] = random.Next(3) == 0 ? RandomValue(0) : random.Next(1, 300),
            ["maxAttempts"] = random.Next(3) == 0 ? RandomValue(0) : random.Next(1, 4),
        };

        private Dictionary<string, object?> RandomRegistration() => new()
        {
            ["agentId"] = random.Next(4) == 0 ? RandomValue(0) : "fz-" + RandomName(),
            ["capabilities"] = random.Next(5) == 0
                ? RandomValue(1)
                : Enumerable.Range(0, random.Next(0, random.Next(2) == 0 ? 4 : 300)).Select(_ => random.Next(10) == 0 ? RandomString(10) : "fz.sink").ToArray(),
            ["maxConcurrency"] = random.Next(3) == 0 ? RandomValue(0) : random.Next(-3, 200_000),
            ["metadata"] = random.Next(3) == 0 ? RandomValue(2) : null,
        };

        private Dictionary<string, object?> RandomCompletion() => new()
        {
            ["taskId"] = random.Next(3) == 0 ? RandomValue(0) : Guid.NewGuid().ToString("N"),
            ["attempt"] = random.Next(3) == 0 ? RandomValue(0) : random.Next(0, 5),
            ["ok"] = random.Next(3) == 0 ? RandomValue(0) : random.Next(2) == 0,
            ["result"] = random.Next(20) == 0 ? new string('r', random.Next(10_000, 200_000)) : RandomValue(3),
            ["error"] = random.Next(2) == 0 ? RandomValue(2) : null,
        };

        private object? RandomValue(int depth) => random.Next(depth > 0 ? 10 : 7) switch
        {
            0 => null,
            1 => random.Next(2) == 0,
            2 => random.Next(6) switch { 0 => long.MaxValue, 1 => long.MinValue, 2 => -1, 3 => int.MaxValue, _ => random.Next() },
            3 => random.NextDouble() * Math.Pow(10, random.Next(-300, 300)),
            4 or 5 => RandomString(random.Next(6) == 0 ? 5_000 : 30),
            6 => RandomName(),
            7 or 8 => Enumerable.Range(0, random.Next(6)).Select(_ => RandomValue(depth - 1)).ToArray(),
            _ => Enumerable.Range(0, random.Next(6)).ToDictionary(i => RandomString(8) + i, _ => RandomValue(depth - 1)),
        };

        private string RandomName() => random.Next(4) switch
        {
            0 => "Image Label!",
            1 => "x" + random.Next(100_000),
            2 => new string('a', random.Next(100, 200)),
            _ => "fz." + random.Next(1000),
        };

        private string RandomString(int maxLength)
        {
            var chars = new char[random.Next(0, maxLength + 1)];
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = random.Next(10) switch
                {
                    0 => (char)random.Next(0, 32), // control characters
                    1 => '"',
                    2 => '\\',
                    3 => RawHubSocket.RecordSeparator,
                    4 => (char)random.Next(0x80, 0xD7FF),
                    _ => (char)random.Next(32, 127),
                };
            }

            return new string(chars);
        }

        private byte[] RandomBytes()
        {
            var bytes = new byte[random.Next(1, 200)];
            random.NextBytes(bytes);
            bytes[^1] = (byte)RawHubSocket.RecordSeparator;
            return bytes;
        }
    }
}
