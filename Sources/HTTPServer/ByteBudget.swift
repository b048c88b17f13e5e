import Synchronization

/// Bytes held by every connection together against one limit: counted as they arrive, never
/// reserved from what a client announces.
final class ByteBudget: Sendable {
    let limit: Int
    private let used = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Takes `count` bytes; false (and nothing taken) when that would pass the limit.
    func reserve(_ count: Int) -> Bool {
        guard count > 0 else { return true }
        if used.wrappingAdd(count, ordering: .relaxed).newValue > limit {
            used.wrappingSubtract(count, ordering: .relaxed)
            return false
        }
        return true
    }

    func release(_ count: Int) {
        if count > 0 { used.wrappingSubtract(count, ordering: .relaxed) }
    }

    var inUse: Int { used.load(ordering: .relaxed) }
}
