#if canImport(Glibc)
import Glibc
#endif
import CreditLine
import Dispatch
import Foundation
import Logging
import Synchronization

/// Where log lines go: standard output, through a buffer that a background thread writes out
/// every 100 ms, or sooner once 64 KiB are waiting. Request threads never wait for I/O, except
/// for warnings and worse, which are written at once. Shutdown calls `flush()`.
public final class LogSink: Sendable {
    public static let standardOutput = LogSink(fd: STDOUT_FILENO)

    private let fd: Int32
    private let buffer = Mutex<[UInt8]>([])
    private let writing = Mutex<Void>(())
    private let wakeFlusher = DispatchSemaphore(value: 0)
    private static let eagerFlushBytes = 64 * 1024

    init(fd: Int32) {
        self.fd = fd
        let thread = Thread { [self] in
            while true {
                _ = wakeFlusher.wait(timeout: .now() + .milliseconds(100))
                flush()
            }
        }
        thread.name = "log-flush"
        thread.start()
    }

    func write(_ line: [UInt8], urgent: Bool) {
        let (size, crossed) = buffer.withLock { buffer -> (Int, Bool) in
            let before = buffer.count
            buffer.append(contentsOf: line)
            return (buffer.count, before < Self.eagerFlushBytes && buffer.count >= Self.eagerFlushBytes)
        }
        if urgent {
            flush()
        } else if crossed {
            wakeFlusher.signal()
        }
        _ = size
    }

    public func flush() {
        writing.withLock { _ in
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

/// swift-log handler writing one JSON object per line: time, level, message, logger, then the
/// metadata. Callers put ids and codes in metadata; bodies, keys and customer data are never
/// logged. Built byte by byte: it runs once per request.
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
        var line: [UInt8] = []
        line.reserveCapacity(256)
        line.append(contentsOf: #"{"time":""#.utf8)
        LogClock.appendNow(to: &line)
        line.append(contentsOf: #"","level":""#.utf8)
        line.append(contentsOf: event.level.rawValue.utf8)
        line.append(contentsOf: #"","message":"#.utf8)
        Self.appendString(event.message.description, to: &line)
        line.append(contentsOf: #","logger":"#.utf8)
        Self.appendString(label, to: &line)
        // The event's own metadata wins over the logger's, which wins over the provider's; each
        // key is written once. No merged copy is built: this runs once per request.
        let provided = metadataProvider?.get() ?? [:]
        let extra = event.metadata ?? [:]
        func write(_ key: String, _ value: Logger.MetadataValue) {
            switch key {
            case "time", "level", "message", "logger": return
            default: break
            }
            line.append(UInt8(ascii: ","))
            Self.appendString(key, to: &line)
            line.append(UInt8(ascii: ":"))
            Self.appendValue(value, to: &line)
        }
        for (key, value) in extra { write(key, value) }
        for (key, value) in metadata where extra[key] == nil { write(key, value) }
        for (key, value) in provided where extra[key] == nil && metadata[key] == nil { write(key, value) }
        line.append(contentsOf: "}\n".utf8)
        sink.write(line, urgent: event.level >= .warning)
    }

    private static func appendValue(_ value: Logger.MetadataValue, to line: inout [UInt8]) {
        switch value {
        case .string(let text):
            appendString(text, to: &line)
        case .stringConvertible(let convertible):
            // Numbers (status codes, ports) stay numbers; anything else is a string.
            if let number = convertible as? any BinaryInteger {
                line.append(contentsOf: String(describing: number).utf8)
            } else {
                appendString(convertible.description, to: &line)
            }
        case .array(let values):
            line.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                appendValue(element, to: &line)
            }
            line.append(UInt8(ascii: "]"))
        case .dictionary(let members):
            line.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                appendString(key, to: &line)
                line.append(UInt8(ascii: ":"))
                appendValue(members[key]!, to: &line)
            }
            line.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string; control characters are escaped, so no value can break the line.
    static func appendString(_ text: String, to line: inout [UInt8]) {
        line.append(UInt8(ascii: "\""))
        // Most values (paths, ids, codes) need no escape: copied whole, not byte by byte.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            line.append(contentsOf: text.utf8)
            line.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): line.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): line.append(contentsOf: #"\\"#.utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                line.append(contentsOf: #"\u00"#.utf8)
                line.append(hex[Int(byte >> 4)])
                line.append(hex[Int(byte & 15)])
            default: line.append(byte)
            }
        }
        line.append(UInt8(ascii: "\""))
    }
}

/// The log's timestamps: RFC 3339 with milliseconds; the part up to the seconds is formatted
/// once per second.
enum LogClock {
    private static let cache = Mutex<(second: Int64, prefix: [UInt8])>((-1, []))

    static func appendNow(to line: inout [UInt8]) {
        let now = SystemTimeSource().now().milliseconds
        let second = now / 1000
        let prefix = cache.withLock { cache -> [UInt8] in
            if cache.second != second {
                let text = Timestamp(milliseconds: second * 1000).rfc3339  // "…T17:30:12.000Z"
                cache = (second, Array(text.utf8.dropLast(4)))
            }
            return cache.prefix
        }
        line.append(contentsOf: prefix)
        let millis = Int(now % 1000)
        line.append(UInt8(48 + millis / 100))
        line.append(UInt8(48 + millis / 10 % 10))
        line.append(UInt8(48 + millis % 10))
        line.append(UInt8(ascii: "Z"))
    }
}
