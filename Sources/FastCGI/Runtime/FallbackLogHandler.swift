import Glibc
import Logging

/// A swift-log handler that writes each line through a `LogSink`: one write(2) per line, and
/// a line the log cannot take (a full disk) goes to the host's stderr or syslog instead of
/// vanishing. Lines read like swift-log's stream handler's:
/// `2026-12-02T12:38:59+0000 error flashsale.order: key=value message`.
public struct FallbackLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let sink: LogSink

    public init(label: String, sink: LogSink, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.sink = sink
        self.metadataProvider = metadataProvider
    }

    /// Makes every logger of this process made from now on write through `sink`. Once per
    /// process: swift-log is bootstrapped once.
    public static func bootstrap(_ sink: LogSink) {
        LoggingSystem.bootstrap { label in FallbackLogHandler(label: label, sink: sink) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let given = event.metadata { merged.merge(given) { $1 } }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value) " }.joined()
        sink.write(
            "\(LogSink.timestamp()) \(event.level) \(label): \(fields)\(event.message)",
            priority: Self.priority(event.level))
    }

    /// The syslog priority of a swift-log level.
    static func priority(_ level: Logger.Level) -> Int32 {
        switch level {
        case .trace, .debug: LOG_DEBUG
        case .info: LOG_INFO
        case .notice: LOG_NOTICE
        case .warning: LOG_WARNING
        case .error: LOG_ERR
        case .critical: LOG_CRIT
        }
    }
}
