#if canImport(Glibc)
import Glibc
#endif

/// Files only the service's own user may read (mode 0600), created that way from the first byte:
/// setting the mode after writing leaves a moment in which the process umask decides.
enum OwnerOnlyFile {
    /// Creates `path` (which must not exist) with `contents`; false if it could not.
    static func create(_ path: String, contents: [UInt8]) -> Bool {
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var written = 0
        while written < contents.count {
            let n = contents.withUnsafeBytes { write(fd, $0.baseAddress! + written, contents.count - written) }
            if n <= 0 { return false }
            written += n
        }
        return fsync(fd) == 0
    }
}
