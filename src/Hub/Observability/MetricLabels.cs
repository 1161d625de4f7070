using System.Collections.Concurrent;
using Aicp.Hub.Registry;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.Observability;

/// <summary>
/// Keeps metric label values in a bounded set. A method becomes a label only when it is a capability the hub
/// knows: configured in <c>Aicp:ExpectedCapabilities</c> or registered by an agent at some point (at most
/// <see cref="ObservabilityOptions.MaxCapabilityLabels"/> of them). Anything else (a typo, a flood of invented
/// names from a submitter) is reported as <see cref="Unknown"/>, so submitters cannot grow the metrics.
/// Agent labels are bounded by the live agents: <see cref="HubMetrics"/> drops an agent's series when it leaves.
/// </summary>
internal sealed class MetricLabels
{
    /// <summary>The label value of every method that is not a known capability.</summary>
    public const string Unknown = "_unknown";

    private readonly ConcurrentDictionary<string, byte> _known = new(StringComparer.Ordinal);
    private readonly AgentRegistry _registry;
    private readonly int _max;

    public MetricLabels(AgentRegistry registry, IOptions<ObservabilityOptions> options)
    {
        _registry = registry;
        _max = options.Value.MaxCapabilityLabels;
        Expected = [.. options.Value.ExpectedCapabilities.Distinct(StringComparer.Ordinal)];
        foreach (var capability in Expected)
        {
            _known.TryAdd(capability, 0);
        }
    }

    /// <summary>
    /// Raised once per capability that becomes a label after start-up (expected ones are known from construction),
    /// on the thread that learned it, so its series can be published at 0 before anything is counted under it.
    /// </summary>
    public event Action<string>? CapabilityLearned;

    /// <summary>Capabilities the deployment must serve (configuration).</summary>
    public IReadOnlyList<string> Expected { get; }

    /// <summary>Every capability known so far: expected ones and those agents registered. Picks up newly registered ones.</summary>
    public IReadOnlyCollection<string> KnownCapabilities
    {
        get
        {
            foreach (var pool in _registry.Pools)
            {
                TryLearn(pool.Method);
            }

            return [.. _known.Keys.Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>The method itself when it is a known capability, otherwise <see cref="Unknown"/>. Never allocates for known names.</summary>
    public string Method(string? method)
    {
        if (method is null)
        {
            return Unknown;
        }

        if (_known.ContainsKey(method))
        {
            return method;
        }

        // Only a capability some live agent registered can become a label: submitters cannot add names.
        return _registry.GetPool(method) is not null && TryLearn(method) ? method : Unknown;
    }

    public bool IsKnown(string method) => _known.ContainsKey(method);

    private bool TryLearn(string method)
    {
        if (_known.ContainsKey(method))
        {
            return true;
        }

        if (_known.Count >= _max)
        {
            return false;
        }

        // Concurrent learners may overshoot the bound by a few entries; the set stays bounded.
        if (_known.TryAdd(method, 0))
        {
            CapabilityLearned?.Invoke(method);
        }

        return true;
    }
}
