using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace FedMesh.Core.Common;

/// <summary>The console logging of the data-plane processes (proxy, gateway): one line per event, our events at Information.</summary>
public static class DataPlaneLogging
{
    public static ILoggerFactory CreateLoggerFactory() => LoggerFactory.Create(logging =>
    {
        logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
            console.ColorBehavior = LoggerColorBehavior.Disabled;
        });
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("System", LogLevel.Warning);
        logging.AddFilter("Yarp", LogLevel.Warning);
        logging.AddFilter("Grpc", LogLevel.Warning);
        // ASP.NET Core creates an Activity (trace ids, a logging scope) for every request whenever this
        // category logs at any level; it only ever logs request starts and ends, which a proxy does not
        // want per request. Off, requests cost no Activity unless tracing is on.
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
    });
}
