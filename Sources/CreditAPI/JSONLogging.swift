#if canImport(Glibc)
import Glibc
#endif
import CreditLine
import Foundation
import Logging
import Synchronization

/// Where log lines go: standard output, buffered. Lines are flushed every 100 ms by a background
/// thread, at once for warnings and worse, and at shutdown, so a busy server does not pay a
/// write(2) per request line.
public final class LogSink: Sendable {
    public static let standardOutput = LogSink(fd: STDOUT_FILENO)

    private let fd: Int32
    private let buffer = Mutex<[UInt8]>([])
    private let flushing = Mutex<Bool>(false)

    init(fd: Int32) {
        self.fd = fd
        let thread = Thread { [self] in
            while true {
                usleep(100_000)
                flush()
            }
        }
        thread.name = "log-flush"
        thread.start()
    }

    func write(_ line: [UInt8], urgent: Bool) {
        let size = buffer.withLock { buffer -> Int in
            buffer.append(contentsOf: line)
            return buffer.count
        }
        if urgent || size > 64 * 1024 { flush() }
    }

    public func flush() {
        flushing.withLock { _ in
            let pending = buffer.withLock { buffer -> [UInt8] in
                defer { buffer.removeAll(keepingCapacity: true) }
                return buffer
            }
            var offset = 0
            while offset < pending.count {
                let written = pending.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, pending.count - offset) }
                if written <= 0 { break }
                offset += written
            }
        }
    }
}

/// swift-log handler writing one JSON object per line: time, level, message, then metadata.
/// Callers put ids and codes in metadata; bodies, keys and customer data are never logged.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level
    private let label: String
    private let sink: LogSink

    public init(label: String, level: Logger.Level = .info, sink: LogSink = .standardOutput) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: JSONValue] = [
            "time": .string(SystemTimeSource().now().rfc3339),
            "level": .string(event.level.rawValue),
            "message": .string(event.message.description),
            "logger": .string(label),
        ]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for (key, value) in merged where fields[key] == nil {
            fields[key] = Self.json(value)
        }
        let line = JSONValue.object(fields).canonicalJSON + "\n"
        sink.write(Array(line.utf8), urgent: event.level >= .warning)
    }

    private static func json(_ value: Logger.MetadataValue) -> JSONValue {
        switch value {
        case .string(let text):
            return Int(text).map(JSONValue.int) ?? .string(text)
        case .stringConvertible(let convertible):
            let text = convertible.description
            return Int(text).map(JSONValue.int) ?? .string(text)
        case .array(let values):
            return .array(values.map(json))
        case .dictionary(let members):
            return .object(members.mapValues(json))
        }
    }
}
