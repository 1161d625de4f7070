using Aicp.Hub.Registry;

namespace Aicp.Hub.Observability;

// Collection time: the live-state gauges, the attempt series of live agents, and the series of agents that left.
internal sealed partial class HubMetrics
{
    private readonly Lock _refreshLock = new();
    private readonly LiveStateGauges _liveState;

    /// <summary>
    /// Runs before every collection of <see cref="Registry"/>. prometheus-net may run the callbacks of concurrent
    /// collections at the same time; refreshes run one at a time here.
    /// </summary>
    private void RefreshLiveState()
    {
        lock (_refreshLock)
        {
            // Reading the known capabilities learns those agents registered; their series are published as they are learned.
            _liveState.Refresh(_registry, Labels.KnownCapabilities);

            // A live agent's attempt counters exist (at 0) for each of its capabilities before its first attempt.
            foreach (var agent in _registry.Agents)
            {
                foreach (var capability in agent.Capabilities)
                {
                    var method = ForMethod(capability);
                    if (!method.Attempts.ContainsKey(agent.AgentId))
                    {
                        PublishAttempts(method, agent.AgentId);
                    }
                }
            }

            // An attempt that ended after its agent left may have brought the agent's series back.
            RemoveAttemptSeries(id => _registry.GetById(id) is null);
        }
    }

    private void OnAgentRemoved(AgentState agent)
    {
        // A replacement with the same id keeps the series: the identity is still live.
        if (_registry.GetById(agent.AgentId) is null)
        {
            bool Matches(string id) => id == agent.AgentId;
            RemoveAttemptSeries(Matches);
            _liveState.RemoveAgents(Matches);
        }
    }

    /// <summary>Drops the attempt series of the agents <paramref name="matches"/> selects: from the caches first, then from the registry.</summary>
    private void RemoveAttemptSeries(Func<string, bool> matches)
    {
        foreach (var (_, series) in _methods)
        {
            foreach (var (agentId, _) in series.Attempts)
            {
                if (matches(agentId))
                {
                    series.Attempts.TryRemove(agentId, out _);
                }
            }
        }

        LiveStateGauges.RemoveWhere(_attempts, labels => matches(labels[0]));
    }
}
