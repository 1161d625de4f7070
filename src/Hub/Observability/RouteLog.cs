using Aicp.Protocol;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Observability;

/// <summary>
/// The last N routing decisions (one per attempt), in a fixed-size ring. Writers claim a slot with one
/// <see cref="Interlocked.Increment(ref long)"/> and store a reference: no lock on the dispatch path. Readers copy
/// the ring and order by sequence number; under heavy writing a read may miss the newest few entries.
/// </summary>
internal sealed class RouteLog
{
    private readonly RouteRecord?[] _ring;
    private long _next;

    public RouteLog(IOptions<ObservabilityOptions> options)
    {
        _ring = new RouteRecord?[options.Value.RouteLogCapacity];
    }

    public int Capacity => _ring.Length;

    /// <summary>Decisions recorded since start.</summary>
    public long Total => Interlocked.Read(ref _next);

    /// <summary>Records an attempt's routing decision, <paramref name="entry"/> being the attempt's route entry.</summary>
    public void Add(DateTimeOffset at, string taskId, int attempt, string method, RouteEntry entry)
    {
        var sequence = Interlocked.Increment(ref _next);
        var record = new RouteRecord
        {
            Sequence = sequence, At = at, TaskId = taskId, Attempt = attempt, Method = method, Strategy = entry.Strategy,
            Candidates = entry.Candidates, AgentId = entry.AgentId, Inputs = new RouteScoreInputs(entry.Pending, entry.LatencyEstimateMs, entry.Trust),
            Outcome = entry.Outcome, ErrorCode = entry.Error?.Code, Ms = entry.Ms,
        };
        Volatile.Write(ref _ring[(int)((sequence - 1) % _ring.Length)], record);
    }

    /// <summary>The newest <paramref name="limit"/> decisions, newest first.</summary>
    public IReadOnlyList<RouteRecord> Latest(int limit)
    {
        limit = Math.Clamp(limit, 0, _ring.Length);
        var copy = new List<RouteRecord>(_ring.Length);
        foreach (var slot in _ring)
        {
            if (slot is { } record)
            {
                copy.Add(record);
            }
        }

        copy.Sort(static (a, b) => b.Sequence.CompareTo(a.Sequence));
        return copy.Count <= limit ? copy : copy.GetRange(0, limit);
    }
}
