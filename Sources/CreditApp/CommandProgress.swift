import Foundation
import Synchronization

/// How far a long command has come (README "Command line", "Progress"), on standard error so that
/// standard output stays the command's data (`audit export`'s NDJSON). On a terminal one line is
/// redrawn in place, at most five times a second: what is done of how much, the rate and the time
/// left. Otherwise (a pipe, a log file, `--no-progress`) nothing until the end. Either way one
/// final line says what was done, in how long and at what rate.
public final class CommandProgress: Sendable {
    public enum Mode: Sendable, Equatable {
        case live
        case finalOnly

        /// `--progress` / `--no-progress` when given, else live exactly when standard error is a
        /// terminal.
        public static func choose(flag: Bool?, standardErrorIsTerminal: Bool) -> Mode {
            (flag ?? standardErrorIsTerminal) ? .live : .finalOnly
        }

        public static func choose(flag: Bool?) -> Mode {
            choose(flag: flag, standardErrorIsTerminal: isatty(STDERR_FILENO) == 1)
        }
    }

    private struct State {
        var lastDrawn: ContinuousClock.Instant?
        var drawn = false
    }

    private let command: String
    private let unit: String
    public let mode: Mode
    private let write: @Sendable (String) -> Void
    private let started = ContinuousClock.now
    private let state = Mutex(State())
    static let redrawInterval: Duration = .milliseconds(200)

    public init(command: String, unit: String = "rows", mode: Mode,
                write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) })
    {
        (self.command, self.unit, self.mode, self.write) = (command, unit, mode, write)
    }

    /// `done` of `total` (nil when the total is not known). Drawn only when live, and at most
    /// every `redrawInterval` after the first.
    public func update(done: Int, total: Int?) {
        guard mode == .live else { return }
        let now = ContinuousClock.now
        let draw = state.withLock { state -> Bool in
            if let last = state.lastDrawn, now - last < Self.redrawInterval { return false }
            state.lastDrawn = now
            state.drawn = true
            return true
        }
        guard draw else { return }
        // Carriage return and erase-line: the next drawing replaces this one.
        write("\r\u{1B}[K" + Self.line(command: command, done: done, total: total, unit: unit, elapsed: now - started))
    }

    /// Something to say on a line of its own (a review resumed), above the progress line.
    public func note(_ text: String) {
        write(takingTheLine() + "\(command): \(text)\n")
    }

    /// The final line, always written.
    public func finish(done: Int, detail: String? = nil) {
        write(takingTheLine()
            + Self.summary(command: command, done: done, unit: unit, elapsed: ContinuousClock.now - started, detail: detail) + "\n")
    }

    /// What erases the progress line, if one is drawn, so that a whole line can take its place.
    private func takingTheLine() -> String {
        state.withLock { state in defer { state.drawn = false }; return state.drawn } ? "\r\u{1B}[K" : ""
    }

    // MARK: - The words, as pure functions

    /// `migrate-data: 12,000 of 50,000 rows (24 %), 8,400 rows/s, 5 s left`
    public static func line(command: String, done: Int, total: Int?, unit: String, elapsed: Duration) -> String {
        let seconds = Self.seconds(elapsed)
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var text = "\(command): \(grouped(done))"
        if let total, total > 0 {
            text += " of \(grouped(total)) \(unit) (\(min(100, done * 100 / total)) %)"
        } else {
            text += " \(unit)"
        }
        if rate > 0 {
            text += ", \(grouped(Int(rate.rounded()))) \(unit)/s"
            if let total, total > done { text += ", \(duration(Double(total - done) / rate)) left" }
        }
        return text
    }

    /// `migrate-data: 50,000 rows in 6.0 s, 8,333 rows/s`
    public static func summary(command: String, done: Int, unit: String, elapsed: Duration, detail: String? = nil) -> String {
        let seconds = Self.seconds(elapsed)
        var text = "\(command): \(grouped(done)) \(unit) in \(String(format: "%.1f", seconds)) s"
        if seconds > 0, done > 0 { text += ", \(grouped(Int((Double(done) / seconds).rounded()))) \(unit)/s" }
        if let detail { text += "; \(detail)" }
        return text
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Thousands separated by commas, as the README writes figures.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// `42 s`, `3 min 5 s`, `2 h 10 min`.
    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        if whole < 60 { return "\(whole) s" }
        if whole < 3600 { return "\(whole / 60) min \(whole % 60) s" }
        return "\(whole / 3600) h \((whole % 3600) / 60) min"
    }
}
