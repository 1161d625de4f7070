using Aicp.Hub.Configuration;
using Aicp.Hub.Observability;
using Aicp.Hub.Routing;
using Microsoft.Extensions.Options;

namespace Aicp.Hub.RoutingConfiguration;

/// <summary>
/// The routing rules in force, from the file <c>Aicp:RoutingFile</c> (none: <see cref="RoutingRules.Empty"/>). The file
/// is checked with the other settings at start-up (<see cref="AicpHubOptionsValidator"/>: an invalid file stops the hub
/// with every problem listed), read when the store is built, then read again whenever it changes: a valid new version
/// replaces the rules as a whole (a volatile reference: readers never lock), an invalid one is refused and logged with
/// its problems, and the rules in use stay. One lock serialises reloads, which are rare and off the task path.
/// </summary>
internal sealed class RoutingRulesStore : IHostedService, IDisposable
{
    private readonly string? _path;
    private readonly RoutingStrategyCatalog? _strategies;
    private readonly ILogger _logger;
    private readonly WatchedFile? _watch;
    private readonly Lock _reloadLock = new();
    private volatile RoutingRules _current;

    public RoutingRulesStore(IOptions<AicpHubOptions> options, RoutingStrategyCatalog strategies, ILogger<RoutingRulesStore> logger)
    {
        _strategies = strategies;
        _logger = logger;
        _current = RoutingRules.Empty;
        if (string.IsNullOrEmpty(options.Value.RoutingFile))
        {
            return;
        }

        // Checked at start-up already; read again here, and refused again if it changed for the worse meanwhile.
        _path = Path.GetFullPath(options.Value.RoutingFile);
        _current = RoutingRulesReader.ReadFile(_path, strategies, out var errors)
            ?? throw new OptionsValidationException(AicpHubOptions.SectionName + ":" + nameof(AicpHubOptions.RoutingFile), typeof(AicpHubOptions), errors);
        Log.RoutingRulesLoaded(_logger, _path, _current.Capabilities.Count);
        _watch = new WatchedFile(_path, ReloadSafely);
    }

    /// <summary>Fixed rules, never reloaded (a dispatcher built without a host).</summary>
    internal RoutingRulesStore(RoutingRules rules)
    {
        _logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _current = rules;
    }

    /// <summary>The rules in force now.</summary>
    public RoutingRules Current => _current;

    /// <summary>Raised after each reload of the file, applied or refused, outside the lock.</summary>
    public event Action<RoutingRulesReload>? Reloaded;

    /// <summary>Reads the file again and applies it when it is valid; problems are logged. Null without a routing file.</summary>
    public RoutingRulesReload? Reload()
    {
        if (_path is null)
        {
            return null;
        }

        RoutingRulesReload reload;
        lock (_reloadLock)
        {
            var rules = RoutingRulesReader.ReadFile(_path, _strategies!, out var errors);
            if (rules is not null)
            {
                _current = rules;
                Log.RoutingRulesLoaded(_logger, _path, rules.Capabilities.Count);
            }
            else
            {
                Log.RoutingRulesRejected(_logger, _path, errors.Count, string.Join(" ", errors));
            }

            reload = new RoutingRulesReload(rules, errors);
        }

        Reloaded?.Invoke(reload);
        return reload;
    }

    // A hosted service, so that the file is read and watched from the moment the host starts.
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _watch?.Dispose();

    // Runs on the file watcher's thread: nothing may escape from here.
    private void ReloadSafely()
    {
        try
        {
            Reload();
        }
        catch (Exception ex)
        {
            Log.RoutingRulesRejected(_logger, _path ?? "", 1, ex.Message);
        }
    }
}

/// <summary>The outcome of one reload: the rules now in force, or null and the problems that refused the file.</summary>
internal sealed record RoutingRulesReload(RoutingRules? Applied, IReadOnlyList<string> Problems);
