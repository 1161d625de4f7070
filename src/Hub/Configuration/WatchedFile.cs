using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;
using Microsoft.Extensions.Primitives;

namespace Aicp.Hub.Configuration;

/// <summary>
/// Calls back when a file changes, on the file providers' watcher (inotify, or polling with
/// <c>DOTNET_USE_POLLING_FILE_WATCHER=true</c>), after a short pause so that a write in progress can finish, as the
/// configuration's own file reload does. The callback runs on the watcher's thread and must not throw.
/// </summary>
internal sealed class WatchedFile : IDisposable
{
    private static readonly TimeSpan SettleDelay = TimeSpan.FromMilliseconds(250);

    private readonly PhysicalFileProvider _provider;
    private readonly IDisposable _subscription;

    public WatchedFile(string fullPath, Action changed)
    {
        var provider = _provider = new PhysicalFileProvider(Path.GetDirectoryName(fullPath)!, ExclusionFilters.None);
        var name = Path.GetFileName(fullPath);
        _subscription = ChangeToken.OnChange(() => provider.Watch(name), () =>
        {
            Thread.Sleep(SettleDelay);
            changed();
        });
    }

    public void Dispose()
    {
        _subscription.Dispose();
        _provider.Dispose();
    }
}
