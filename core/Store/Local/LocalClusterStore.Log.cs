using Microsoft.Extensions.Logging;

namespace FedMesh.Core.Store.Local;

internal static partial class LocalStoreLog
{
    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Skipping unreadable store file {Path}; fix or delete it. {Reason}")]
    public static partial void SkippedUnreadableFile(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Removed {Count} temp files left by interrupted writes in {Directory}")]
    public static partial void RemovedStaleTempFiles(ILogger logger, int count, string directory);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "File notifications for {Directory} failed; relying on the periodic resync. {Reason}")]
    public static partial void FileWatcherFailed(ILogger logger, string directory, string reason);
}
