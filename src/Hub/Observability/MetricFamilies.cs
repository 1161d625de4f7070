namespace Aicp.Hub.Observability;

/// <summary>
/// Every metric family the hub exports, declared here and nowhere else. deploy/prometheus and docs/OBSERVABILITY.md
/// use these names, label names and buckets: change them together.
/// </summary>
internal static class MetricFamilies
{
    /// <summary>Buckets of <see cref="TaskDuration"/>: 5 ms to 120 s.</summary>
    public static readonly double[] TaskDurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    /// <summary>Buckets of <see cref="RoutingDecision"/>: 10 µs to 50 ms.</summary>
    public static readonly double[] RoutingDecisionBuckets = [0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.05];

    public static readonly MetricFamily TasksSubmitted = new("aicp_tasks_submitted_total",
        "Tasks submitted, by method.", "{task}", [Tags.Method]);

    public static readonly MetricFamily TasksCompleted = new("aicp_tasks_completed_total",
        "Tasks finished, by method and final status.", "{task}", [Tags.Method, Tags.Status]);

    public static readonly MetricFamily TaskAttempts = new("aicp_task_attempts_total",
        "Dispatch attempts, by method, agent and outcome.", "{attempt}", [Tags.Agent, Tags.Method, Tags.Outcome]);

    public static readonly MetricFamily Failovers = new("aicp_failovers_total",
        "Attempts after the first (a task moved to another agent), by method.", "{attempt}", [Tags.Method]);

    public static readonly MetricFamily Hedges = new("aicp_hedges_total",
        "Hedged attempts: sent while an earlier attempt of the task was still running, by method.", "{attempt}", [Tags.Method]);

    public static readonly MetricFamily HedgesWon = new("aicp_hedges_won_total",
        "Tasks whose result came from the hedge rather than the attempt it hedged, by method.", "{task}", [Tags.Method]);

    public static readonly MetricFamily RetryBudgetExhausted = new("aicp_retry_budget_exhausted_total",
        "Tasks that ended without a due failover because the capability's retry budget was spent, by method.", "{task}", [Tags.Method]);

    public static readonly MetricFamily Fallbacks = new("aicp_fallbacks_total",
        "Tasks that left a capability for the next one of their fallback chain (no agent could take them, or all attempts failed), by the capability left.",
        "{task}", [Tags.Method]);

    public static readonly MetricFamily IntentRoutes = new("aicp_intent_routes_total",
        "Tasks sent to a router method, by router and the rule that classified them (default when none matched).", "{task}", [Tags.Router, Tags.Rule]);

    public static readonly MetricFamily DeadlineMisses = new("aicp_deadline_misses_total",
        "Tasks that ended on their deadline, by method and code (deadline_unreachable: refused at once; deadline_exceeded: passed while waiting or between attempts).",
        "{task}", [Tags.Method, Tags.Code]);

    public static readonly MetricFamily FrontDoorRequests = new("aicp_front_door_requests_total",
        "Requests by front door (signalr, signalr_stream, http, openai) and outcome: the task's final status, or invalid_request / unauthorized for a request refused before it became a task.",
        "{request}", [Tags.Door, Tags.Status]);

    public static readonly MetricFamily CircuitTransitions = new("aicp_circuit_transitions_total",
        "Agent circuit-breaker transitions, by the state entered (open, half-open, closed).", "{transition}", [Tags.State]);

    public static readonly MetricFamily TaskDuration = new("aicp_task_duration_seconds",
        "Time from submit to final result, by method and status.", "s", [Tags.Method, Tags.Status]);

    public static readonly MetricFamily RoutingDecision = new("aicp_routing_decision_seconds",
        "Time the routing strategy took to pick an agent and take its slot.", "s", []);

    public static readonly MetricFamily LateCompletions = new("aicp_late_completions_total",
        "Completions for attempts the hub had already ended (timeout, failover, cancel).", "{completion}", []);

    public static readonly MetricFamily StreamChunks = new("aicp_stream_chunks_total",
        "Chunks of streamed tasks' output taken for their submitters, by method.", "{chunk}", [Tags.Method]);

    public static readonly MetricFamily LateChunks = new("aicp_late_chunks_total",
        "Chunks (Partial) for attempts that had ended or take no output; each was refused.", "{chunk}", []);

    public static readonly MetricFamily ForeignCompletions = new("aicp_foreign_completions_total",
        "Completions and chunks from a connection the attempt was not assigned to.", "{completion}", []);

    public static readonly MetricFamily ForbiddenCalls = new("aicp_forbidden_calls_total",
        "Hub calls refused because the caller lacks the role or binding.", "{call}", []);

    public static readonly MetricFamily OversizeResults = new("aicp_oversize_results_total",
        "Completions whose result exceeded the size limit; each closed its connection.", "{completion}", []);

    public static readonly MetricFamily SecurityEvents = new("aicp_security_events_total",
        "Security events, by kind: refused authentications, role and binding refusals, foreign completions, key revocations, expired credentials, refused connections.",
        "{event}", [Tags.Kind]);

    public static readonly MetricFamily AgentsConnected = new("aicp_agents_connected",
        "Registered agents connected now.", "{agent}", []);

    public static readonly MetricFamily CapabilityAgents = new("aicp_capability_agents",
        "Agents serving each known capability (0 when a known capability lost all its agents).", "{agent}", [Tags.Method]);

    public static readonly MetricFamily CapabilityHealthyAgents = new("aicp_capability_healthy_agents",
        "Agents serving each known capability that may take new work (not draining, breaker not open).", "{agent}", [Tags.Method]);

    public static readonly MetricFamily QueueDepth = new("aicp_queue_depth",
        "Tasks waiting for a free agent slot, by capability.", "{task}", [Tags.Method]);

    public static readonly MetricFamily AgentPending = new("aicp_agent_pending",
        "Tasks in flight on each agent.", "{task}", [Tags.Agent]);

    public static readonly MetricFamily AgentMaxConcurrency = new("aicp_agent_max_concurrency",
        "Each agent's maxConcurrency.", "{task}", [Tags.Agent]);

    public static readonly MetricFamily AgentTrust = new("aicp_agent_trust",
        "Each agent's trust score in [0, 1].", "1", [Tags.Agent]);

    public static readonly MetricFamily AgentCircuitState = new("aicp_agent_circuit_state",
        "Each agent's circuit breaker: 0 closed, 1 half-open, 2 open.", "1", [Tags.Agent]);

    public static readonly MetricFamily AgentLatency = new("aicp_agent_latency_ewma_seconds",
        "Each agent's moving-average latency per capability, once it has a sample.", "s", [Tags.Agent, Tags.Method]);

    public static readonly MetricFamily ProcessCpu = new("process_cpu_seconds_total",
        "Total user and system CPU time spent in seconds.", "s", []);

    public static readonly MetricFamily ProcessResidentMemory = new("process_resident_memory_bytes",
        "Resident memory size in bytes.", "By", []);

    public static readonly MetricFamily ProcessStartTime = new("process_start_time_seconds",
        "Start time of the process since unix epoch in seconds.", "s", []);

    public static readonly MetricFamily GcCollections = new("dotnet_gc_collections_total",
        "Garbage collections since the process started, by generation.", "{collection}", [Tags.Generation]);

    public static readonly MetricFamily GcHeapSize = new("dotnet_gc_heap_size_bytes",
        "Bytes currently thought to be allocated on the managed heap.", "By", []);

    public static readonly MetricFamily ClusterNodes = new("aicp_cluster_nodes",
        "Hub nodes in this node's view of the cluster, itself included (1 when not a node of a cluster, or while Redis is unreachable).", "{node}", []);

    public static readonly MetricFamily ClusterRedisUp = new("aicp_cluster_redis_up",
        "1 while this node reaches the cluster's Redis, 0 while it does not (and on a hub that is not a node of a cluster).", "1", []);

    public static readonly MetricFamily ClusterBadMessages = new("aicp_cluster_bad_messages_total",
        "Node snapshots, membership entries and inbox messages read from Redis that were not valid, and were dropped.", "{message}", []);

    public static readonly MetricFamily ClusterRefusals = new("aicp_cluster_refusals_total",
        "Attempts this node sent to another node's agent that the owner refused (full, draining or gone: the view was stale), or that could not be sent; the task picked again.", "{attempt}", []);

    /// <summary>Label (tag) names.</summary>
    public static class Tags
    {
        public const string Method = "method";
        public const string Status = "status";
        public const string Agent = "agent";
        public const string Outcome = "outcome";
        public const string Code = "code";
        public const string State = "state";
        public const string Generation = "generation";
        public const string Kind = "kind";
        public const string Door = "door";
        public const string Router = "router";
        public const string Rule = "rule";
    }
}
