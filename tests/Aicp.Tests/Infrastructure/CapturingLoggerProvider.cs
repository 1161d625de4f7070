using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Aicp.Tests.Infrastructure;

/// <summary>Keeps every log entry at or above a level, with its category, for a test to assert on.</summary>
public sealed class CapturingLoggerProvider(LogLevel minimum = LogLevel.Warning) : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public readonly record struct Entry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception);

    public IReadOnlyCollection<Entry> Entries => _entries;

    /// <summary>Error and Critical entries whose category starts with <paramref name="categoryPrefix"/>.</summary>
    public IReadOnlyList<Entry> Errors(string categoryPrefix) =>
        [.. _entries.Where(e => e.Level >= LogLevel.Error && e.Category.StartsWith(categoryPrefix, StringComparison.Ordinal))];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner._minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel) && owner._entries.Count < 100_000)
            {
                owner._entries.Enqueue(new Entry(category, logLevel, eventId, formatter(state, exception), exception));
            }
        }
    }

    private readonly LogLevel _minimum = minimum;
}
