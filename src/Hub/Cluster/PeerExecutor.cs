using System.Collections.Concurrent;
using Aicp.Hub.Dispatch;

namespace Aicp.Hub.Cluster;

/// <summary>
/// The owner's side of dispatch across nodes: runs the attempts other nodes send to this node's agents
/// (<see cref="TaskDispatcher.RunForPeerAsync"/>) and answers each with its end or a refusal (after the chunks of a
/// streamed one, relayed as they come); a <c>cancel</c> from the
/// asker cancels the attempt here. An attempt whose asker is gone still ends here (its timeout bounds it) and frees its
/// slot; its answer goes nowhere.
/// </summary>
internal sealed partial class PeerExecutor : IHostedService
{
    private readonly ClusterMembership _cluster;
    private readonly TaskDispatcher _dispatcher;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<(string TaskId, int Attempt), CancellationTokenSource> _running = new();

    public PeerExecutor(ClusterMembership cluster, TaskDispatcher dispatcher, ILogger<PeerExecutor> logger)
    {
        _cluster = cluster;
        _dispatcher = dispatcher;
        _logger = logger;
    }

    /// <summary>Attempts for other nodes running here now.</summary>
    public int Running => _running.Count;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _cluster.MessageReceived += OnMessage;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _cluster.MessageReceived -= OnMessage;
        return Task.CompletedTask;
    }

    private void OnMessage(PeerMessage message)
    {
        switch (message.Type)
        {
            case PeerMessage.Execute:
                _ = RunAsync(message);
                break;
            case PeerMessage.Cancel when _running.TryGetValue((message.TaskId, message.Attempt), out var running):
                running.Cancel();
                break;
        }
    }

    private async Task RunAsync(PeerMessage execute)
    {
        var key = (execute.TaskId, execute.Attempt);
        using var cancel = new CancellationTokenSource();
        if (!_running.TryAdd(key, cancel))
        {
            return; // the same attempt twice: the first one answers
        }

        try
        {
            var answer = await _dispatcher.RunForPeerAsync(execute, _cluster.Node, chunk => _cluster.SendAsync(execute.From, new PeerMessage
            {
                Type = PeerMessage.Chunk, From = _cluster.Node, TaskId = execute.TaskId, Attempt = execute.Attempt, Payload = chunk,
            }), cancel.Token).ConfigureAwait(false);
            await _cluster.SendAsync(execute.From, answer).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.PeerAttemptFailed(_logger, ex, execute.TaskId, execute.Attempt, execute.From);
        }
        finally
        {
            _running.TryRemove(new KeyValuePair<(string, int), CancellationTokenSource>(key, cancel));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7008, Level = LogLevel.Error, Message = "Attempt {Attempt} of task {TaskId} for node {Node} failed in the hub")]
        public static partial void PeerAttemptFailed(ILogger logger, Exception exception, string taskId, int attempt, string node);
    }
}
