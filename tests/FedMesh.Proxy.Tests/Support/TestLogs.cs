using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FedMesh.Proxy.Tests.Support;

/// <summary>Keeps every log line of Information and above, so tests can assert on warnings.</summary>
internal sealed class TestLogs : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILoggerFactory CreateFactory() => LoggerFactory.Create(b =>
    {
        b.SetMinimumLevel(LogLevel.Information);
        b.AddFilter("Microsoft", LogLevel.Warning);
        b.AddProvider(this);
    });

    public bool Contains(string text)
    {
        foreach (var line in Lines)
        {
            if (line.Contains(text, StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(TestLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => owner.Lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}");
    }
}
