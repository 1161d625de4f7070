using Microsoft.Playwright;

namespace Aicp.Tests.Infrastructure;

/// <summary>
/// Debian's chromium driven by Microsoft.Playwright: never a browser Playwright downloads. A missing chromium fails the
/// test with the install hint. Screenshots go to the test results directory (<c>AICP_TEST_ARTIFACTS</c>, which
/// scripts/test.sh sets, else TestResults/artifacts in the repository).
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";

    // The flags a root CI container needs: no sandbox (root), no GPU, and none of the browser's own network traffic.
    private static readonly string[] LaunchFlags =
        ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    private readonly IPlaywright _playwright;

    private Chromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    /// <summary>Where screenshots and other test artifacts go.</summary>
    public static string ArtifactsDirectory
    {
        get
        {
            var directory = Environment.GetEnvironmentVariable("AICP_TEST_ARTIFACTS") is { Length: > 0 } configured
                ? Path.GetFullPath(configured)
                : Path.Combine(ExternalTool.RepositoryRoot, "TestResults", "artifacts");
            Directory.CreateDirectory(directory);
            return directory;
        }
    }

    public static async Task<Chromium> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            Assert.Fail($"chromium is not installed at {ExecutablePath}, and the browser tests need it: " +
                "apt-get install -y --no-install-recommends chromium (.ci/run installs it). Playwright's own browser downloads are not used.");
        }

        var playwright = await Playwright.CreateAsync().DefaultTimeout();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ExecutablePath, Headless = true, ChromiumSandbox = false, Args = LaunchFlags,
                Timeout = (float)TestTimeouts.Default.TotalMilliseconds,
            }).DefaultTimeout();
            return new Chromium(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A page with the default timeouts of the tests, <paramref name="width"/> CSS pixels wide.</summary>
    public async Task<IPage> NewPageAsync(int width = 1440, int height = 1000)
    {
        var page = await Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } }).DefaultTimeout();
        page.SetDefaultTimeout((float)TestTimeouts.Default.TotalMilliseconds);
        page.SetDefaultNavigationTimeout((float)TestTimeouts.Default.TotalMilliseconds);
        return page;
    }

    /// <summary>Saves a full-page screenshot as a test artifact and returns its path.</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(ArtifactsDirectory, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true }).DefaultTimeout();
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Browser.CloseAsync().WaitAsync(TestTimeouts.Default);
        }
        finally
        {
            _playwright.Dispose();
        }
    }
}
