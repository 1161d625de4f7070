using System.Diagnostics.Metrics;
using Aicp.Hub.FrontDoors;
using Prometheus;
using static Aicp.Hub.Observability.MetricFamilies;

namespace Aicp.Hub.Observability;

// Requests per front door: one grid of children, door x outcome, created (and published at 0) at start-up. Both label
// sets are closed (FrontDoorNames, the final statuses plus two refusals), so the family holds at most 6 x 10 series.
internal sealed partial class HubMetrics
{
    /// <summary>The outcome labels of <see cref="FrontDoorRequests"/>: the final statuses, then the two refusals before a task.</summary>
    private static readonly string[] DoorOutcomes = [.. Statuses, FrontDoorNames.InvalidRequest, FrontDoorNames.Unauthorized];

    private Counter.Child[][] _frontDoors = [];

    private void CreateFrontDoorCounters(MetricFactory factory)
    {
        var family = CreateCounter(factory, FrontDoorRequests);
        _frontDoors = Array.ConvertAll(FrontDoorNames.All, door => Array.ConvertAll(DoorOutcomes, outcome =>
        {
            var child = family.WithLabels(door, outcome);
            child.Publish();
            return child;
        }));
    }

    /// <summary>A request through <paramref name="door"/> ended with <paramref name="outcome"/> (a final status, or a refusal before a task).</summary>
    public void FrontDoorRequest(string door, string outcome)
    {
        var d = Array.IndexOf(FrontDoorNames.All, door);
        var o = Array.IndexOf(DoorOutcomes, outcome);
        if (d >= 0 && o >= 0)
        {
            _frontDoors[d][o].Inc();
        }
    }

    /// <summary>Requests per door and outcome since start; outcomes with a count of 0 are left out.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> FrontDoorTotals()
    {
        var totals = new Dictionary<string, IReadOnlyDictionary<string, long>>(StringComparer.Ordinal);
        for (var d = 0; d < FrontDoorNames.All.Length; d++)
        {
            var byOutcome = new Dictionary<string, long>(StringComparer.Ordinal);
            for (var o = 0; o < DoorOutcomes.Length; o++)
            {
                if (_frontDoors[d][o].Value > 0)
                {
                    byOutcome[DoorOutcomes[o]] = (long)_frontDoors[d][o].Value;
                }
            }

            totals[FrontDoorNames.All[d]] = byOutcome;
        }

        return totals;
    }

    private IEnumerable<Measurement<double>> FrontDoorMeasurements()
    {
        for (var d = 0; d < FrontDoorNames.All.Length; d++)
        {
            for (var o = 0; o < DoorOutcomes.Length; o++)
            {
                yield return new Measurement<double>(_frontDoors[d][o].Value,
                    new KeyValuePair<string, object?>(Tags.Door, FrontDoorNames.All[d]), new KeyValuePair<string, object?>(Tags.Status, DoorOutcomes[o]));
            }
        }
    }
}
