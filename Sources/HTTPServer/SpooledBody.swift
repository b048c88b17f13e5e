#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// An upload written to a file as it arrived instead of being held in memory (README
/// "Hostile clients and faults"). The file is unlinked as soon as it is made, so only this descriptor keeps it:
/// it disappears when the request is done, or when the process dies.
///
/// `@unchecked Sendable`: it owns a file descriptor; writes happen only on the connection's loop
/// thread before the request is handed on, and after that only reads, which `pread` makes safe
/// from any thread.
public final class SpooledBody: @unchecked Sendable {
    private let fd: Int32
    private let budget: ByteBudget
    /// Bytes written so far; the whole body once the request is handed on.
    public private(set) var count: Int = 0

    enum Appended {
        case stored
        /// Every spooled upload together would pass `maxSpooledBodyBytes`.
        case overBudget
        /// The disk refused the bytes (full, or an I/O error).
        case refused
    }

    /// Creates the (already unlinked) file in `directory`; what it holds is counted against
    /// `budget` until it goes.
    init(directory: String, budget: ByteBudget) throws {
        self.budget = budget
        var template = Array((directory.hasSuffix("/") ? directory : directory + "/").utf8CString.dropLast())
            + Array("creditline-upload-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw SystemError.last("mkstemp") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        self.fd = fd
    }

    private let finished = Atomic<Bool>(false)

    deinit { finish() }

    /// Closes the file and gives its bytes back to the budget; once, whoever asks first (the
    /// connection when the request is answered, or the last reference going). A mapping made by
    /// `mappedData` stays readable after it.
    func finish() {
        guard !finished.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Glibc.close(fd)
        budget.release(count)
    }

    func append(_ bytes: UnsafeRawBufferPointer) -> Appended {
        guard budget.reserve(bytes.count) else { return .overBudget }
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0, errno == EINTR { continue }
            guard written > 0 else {
                budget.release(bytes.count)
                return .refused
            }
            offset += written
        }
        count += bytes.count
        return .stored
    }

    /// The whole body, mapped from the file rather than copied into memory: its pages are the
    /// file's, which the kernel can drop and read again. The mapping lives as long as the Data.
    public func mappedData() throws -> Data {
        guard count > 0 else { return Data() }
        guard let base = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw SystemError.last("mmap")
        }
        let length = count
        return Data(bytesNoCopy: base, count: length, deallocator: .custom { pointer, _ in _ = munmap(pointer, length) })
    }
}

/// What the server does with a request's body once its head is in, for a request that may carry
/// more than `maxBodyBytes` (an upload path). The head alone decides: nothing of the body has
/// been read when the responder is asked.
public enum BodyAdmission: Sendable {
    /// Read it into memory (up to the upload cap, within `maxBufferedBodyBytes`).
    case buffer
    /// Write it to a file as it arrives; the handler finds it in `Request.spooled`.
    case spool
    /// Answer now (a 401 or 403, say) without reading the body; the connection is closed after.
    case answer(Response)
}
