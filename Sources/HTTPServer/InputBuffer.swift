#if canImport(Glibc)
import Glibc
#endif
import CLinux
import HTTPTypes

/// A growable byte buffer read straight from a socket, consumed from the front. While it holds
/// nothing it borrows its loop's scratch buffer for the read; `settle()` copies any leftover into
/// storage of its own before another connection can use the scratch.
struct InputBuffer: ~Copyable {
    enum ReadResult { case data, wouldBlock, endOfFile, error }

    private var storage: UnsafeMutableRawPointer?
    private var capacity: Int
    private var borrowed = false
    private let initialCapacity: Int
    private let maximumCapacity: Int
    private var start = 0
    private var end = 0

    init(initialCapacity: Int, maximumCapacity: Int) {
        capacity = 0
        self.initialCapacity = initialCapacity
        self.maximumCapacity = maximumCapacity
        storage = nil
    }

    deinit {
        if !borrowed { storage?.deallocate() }
    }

    var readableCount: Int { end - start }
    var isFull: Bool { start == 0 && end == capacity && capacity >= maximumCapacity }

    mutating func read(from fd: Int32, scratch: UnsafeMutableRawBufferPointer) -> ReadResult {
        if storage == nil {
            storage = scratch.baseAddress
            capacity = min(scratch.count, maximumCapacity)
            borrowed = true
            start = 0
            end = 0
        }
        if end == capacity {
            if start > 0, let storage {
                storage.copyMemory(from: storage + start, byteCount: end - start)
                end -= start
                start = 0
            } else if capacity < maximumCapacity {
                let grown = min(maximumCapacity, max(initialCapacity, capacity * 2))
                let bigger = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
                if let storage {
                    bigger.copyMemory(from: storage, byteCount: end)
                    if !borrowed { storage.deallocate() }
                }
                storage = bigger
                capacity = grown
                borrowed = false
            } else {
                return .wouldBlock
            }
        }
        guard let storage else { return .error }
        while true {
            let count = Glibc.read(fd, storage + end, capacity - end)
            if count > 0 {
                end += count
                return .data
            }
            if count == 0 { return .endOfFile }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .error
        }
    }

    /// Hands the scratch buffer back, keeping unparsed bytes in storage of its own.
    mutating func settle() {
        guard borrowed else { return }
        borrowed = false
        let remaining = end - start
        guard remaining > 0, let scratch = storage else {
            storage = nil
            capacity = 0
            start = 0
            end = 0
            return
        }
        let ownCapacity = max(initialCapacity, remaining)
        let own = UnsafeMutableRawPointer.allocate(byteCount: ownCapacity, alignment: 16)
        own.copyMemory(from: scratch + start, byteCount: remaining)
        storage = own
        capacity = ownCapacity
        start = 0
        end = remaining
    }

    /// Gives the memory back while the connection is idle.
    mutating func releaseIfEmpty() {
        guard start == end, let storage else { return }
        if !borrowed { storage.deallocate() }
        self.storage = nil
        borrowed = false
        capacity = 0
        start = 0
        end = 0
    }

    func withReadableBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: storage.map { $0 + start }, count: end - start))
    }

    mutating func consume(_ count: Int) {
        start += count
        if start == end {
            start = 0
            end = 0
        }
    }

    mutating func clear() {
        start = 0
        end = 0
    }
}
