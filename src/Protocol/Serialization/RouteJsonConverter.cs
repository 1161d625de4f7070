using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aicp.Protocol.Serialization;

/// <summary>
/// Reads and writes a result's route (<see cref="TaskResult.Route"/>) as JSON by hand: the same names, order and values
/// as the contract's serializer gives (camelCase, nulls left out), without the serializer's nested read and write
/// frames for the list and each entry. Every result carries a route, so this runs twice per task (written by the hub,
/// read by the submitter). Names are read case-insensitively and unknown ones are skipped, as the contract's serializer
/// does.
/// </summary>
internal sealed class RouteJsonConverter : JsonConverter<IReadOnlyList<RouteEntry>>
{
    private static readonly JsonEncodedText AgentId = JsonEncodedText.Encode("agentId");
    private static readonly JsonEncodedText Method = JsonEncodedText.Encode("method");
    private static readonly JsonEncodedText Node = JsonEncodedText.Encode("node");
    private static readonly JsonEncodedText Outcome = JsonEncodedText.Encode("outcome");
    private static readonly JsonEncodedText Ms = JsonEncodedText.Encode("ms");
    private static readonly JsonEncodedText Strategy = JsonEncodedText.Encode("strategy");
    private static readonly JsonEncodedText Candidates = JsonEncodedText.Encode("candidates");
    private static readonly JsonEncodedText Pending = JsonEncodedText.Encode("pending");
    private static readonly JsonEncodedText LatencyEstimateMs = JsonEncodedText.Encode("latencyEstimateMs");
    private static readonly JsonEncodedText PredictedMs = JsonEncodedText.Encode("predictedMs");
    private static readonly JsonEncodedText Trust = JsonEncodedText.Encode("trust");
    private static readonly JsonEncodedText Circuit = JsonEncodedText.Encode("circuit");
    private static readonly JsonEncodedText SuccessRate = JsonEncodedText.Encode("successRate");
    private static readonly JsonEncodedText SlowStart = JsonEncodedText.Encode("slowStart");
    private static readonly JsonEncodedText Hedge = JsonEncodedText.Encode("hedge");
    private static readonly JsonEncodedText Error = JsonEncodedText.Encode("error");

    public override IReadOnlyList<RouteEntry> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        Expect(ref reader, JsonTokenType.StartArray, "an array");
        var route = new List<RouteEntry>(1);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            route.Add(ReadEntry(ref reader, options));
        }

        return route;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<RouteEntry> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        for (var i = 0; i < value.Count; i++)
        {
            WriteEntry(writer, value[i], options);
        }

        writer.WriteEndArray();
    }

    private static void WriteEntry(Utf8JsonWriter writer, RouteEntry entry, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString(AgentId, entry.AgentId);
        WriteIfSet(writer, Method, entry.Method);
        WriteIfSet(writer, Node, entry.Node);
        writer.WriteString(Outcome, entry.Outcome);
        writer.WriteNumber(Ms, entry.Ms);
        WriteIfSet(writer, Strategy, entry.Strategy);
        writer.WriteNumber(Candidates, entry.Candidates);
        writer.WriteNumber(Pending, entry.Pending);
        writer.WriteNumber(LatencyEstimateMs, entry.LatencyEstimateMs);
        WriteIfSet(writer, PredictedMs, entry.PredictedMs);
        writer.WriteNumber(Trust, entry.Trust);
        WriteIfSet(writer, Circuit, entry.Circuit);
        WriteIfSet(writer, SuccessRate, entry.SuccessRate);
        WriteIfSet(writer, SlowStart, entry.SlowStart);
        if (entry.Hedge is { } hedge)
        {
            writer.WriteBoolean(Hedge, hedge);
        }

        if (entry.Error is { } error)
        {
            // Only failed attempts have one: left to the serializer, so the error's contract stays in one place.
            writer.WritePropertyName(Error);
            JsonSerializer.Serialize(writer, error, options);
        }

        writer.WriteEndObject();
    }

    private static void WriteIfSet(Utf8JsonWriter writer, JsonEncodedText name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    private static void WriteIfSet(Utf8JsonWriter writer, JsonEncodedText name, double? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, number);
        }
    }

    private static RouteEntry ReadEntry(ref Utf8JsonReader reader, JsonSerializerOptions options)
    {
        Expect(ref reader, JsonTokenType.StartObject, "an object");
        string agentId = "", outcome = "";
        string? method = null, node = null, strategy = null, circuit = null;
        double ms = 0, latencyEstimateMs = 0, trust = 0;
        double? predictedMs = null, successRate = null, slowStart = null;
        int candidates = 0, pending = 0;
        bool? hedge = null;
        TaskError? error = null;
        var expected = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = NameOf(ref reader, expected);
            expected = name + 1;
            reader.Read();
            switch (name)
            {
                case 0: agentId = reader.GetString() ?? ""; break;
                case 1: method = reader.GetString(); break;
                case 2: node = reader.GetString(); break;
                case 3: outcome = reader.GetString() ?? ""; break;
                case 4: ms = reader.GetDouble(); break;
                case 5: strategy = reader.GetString(); break;
                case 6: candidates = reader.GetInt32(); break;
                case 7: pending = reader.GetInt32(); break;
                case 8: latencyEstimateMs = reader.GetDouble(); break;
                case 9: predictedMs = reader.TokenType == JsonTokenType.Null ? null : reader.GetDouble(); break;
                case 10: trust = reader.GetDouble(); break;
                case 11: circuit = reader.GetString(); break;
                case 12: successRate = reader.TokenType == JsonTokenType.Null ? null : reader.GetDouble(); break;
                case 13: slowStart = reader.TokenType == JsonTokenType.Null ? null : reader.GetDouble(); break;
                case 14: hedge = reader.TokenType == JsonTokenType.Null ? null : reader.GetBoolean(); break;
                case 15: error = JsonSerializer.Deserialize<TaskError>(ref reader, options); break;
                default: reader.Skip(); break;
            }
        }

        return new RouteEntry
        {
            AgentId = agentId, Method = method, Node = node, Outcome = outcome, Ms = ms, Strategy = strategy, Candidates = candidates,
            Pending = pending, LatencyEstimateMs = latencyEstimateMs, PredictedMs = predictedMs, Trust = trust, Circuit = circuit,
            SuccessRate = successRate, SlowStart = slowStart, Hedge = hedge, Error = error,
        };
    }

    private static readonly JsonEncodedText[] Names =
        [AgentId, Method, Node, Outcome, Ms, Strategy, Candidates, Pending, LatencyEstimateMs, PredictedMs, Trust, Circuit, SuccessRate, SlowStart, Hedge, Error];

    /// <summary>
    /// The index in <see cref="Names"/> of the property the reader is at, matched as written first, then ignoring case;
    /// -1 for another name. Names are tried from <paramref name="expected"/> on (the one after the last property read:
    /// properties mostly come in the order they are written, so the first try mostly matches).
    /// </summary>
    private static int NameOf(ref Utf8JsonReader reader, int expected)
    {
        for (var k = 0; k < Names.Length; k++)
        {
            var i = (expected + k) % Names.Length;
            if (reader.ValueTextEquals(Names[i].EncodedUtf8Bytes))
            {
                return i;
            }
        }

        var name = reader.GetString();
        for (var i = 0; i < Names.Length; i++)
        {
            if (string.Equals(name, Names[i].Value, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType token, string what)
    {
        if (reader.TokenType != token)
        {
            throw new JsonException($"A route is an array of objects; found {reader.TokenType} where {what} belongs.");
        }
    }
}
