using Microsoft.Playwright;
using Xunit;

namespace Orchestrator.E2E;

/// <summary>
/// Debian's Chromium driven by Playwright for .NET (no browser download: <c>ExecutablePath</c> points at the
/// package's binary), one browser for a test class; each test opens its own context (cookies, sessionStorage).
/// </summary>
public sealed class DashboardBrowser : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: apt-get install chromium (deploy/test.sh installs it)");
        // a loaded 2-core machine: pods start and pages render slower than Playwright's 5 s default expects
        Assertions.SetDefaultExpectTimeout(30_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
            Timeout = 60_000,
        });
    }

    /// <summary>A fresh context that trusts the cluster's private CA by not checking it, optionally signed in already.</summary>
    public async Task<IBrowserContext> NewContextAsync(string? token = null, int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            IgnoreHTTPSErrors = true,
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        context.SetDefaultTimeout(30_000);
        if (token is not null)
            await context.AddInitScriptAsync($"sessionStorage.setItem('orchestrator.token', {System.Text.Json.JsonSerializer.Serialize(token)});");
        return context;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}
