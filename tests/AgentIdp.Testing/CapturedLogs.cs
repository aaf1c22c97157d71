using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AgentIdp.Testing;

/// <summary>Every log entry a service writes, at every level, for tests that look for what must not be logged.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public sealed record Entry(string Category, LogLevel Level, string Message, string? Exception, string State);

    public IReadOnlyList<Entry> Entries => [.. _entries];

    /// <summary>The whole log as one text, with each entry's structured values and exception.</summary>
    public string Text => string.Join('\n', _entries.Select(e => $"{e.Level} {e.Category}: {e.Message} {e.State} {e.Exception}"));

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, CapturedLogs sink) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}"))
                : state?.ToString() ?? "";
            sink._entries.Enqueue(new Entry(category, logLevel, formatter(state, exception), exception?.ToString(), values));
        }
    }
}
