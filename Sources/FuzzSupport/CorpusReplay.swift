#if canImport(Glibc)
import Glibc
#endif

/// Without libFuzzer, a fuzz target's executable replays corpus files given as arguments (tests
/// and CI do): each file's bytes through `body`. Returns how many were replayed.
public func replayCorpus(_ paths: some Sequence<String>, _ body: ([UInt8]) -> Void) -> Int {
    var count = 0
    for path in paths {
        guard let handle = fopen(path, "rb") else { continue }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, handle)
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        fclose(handle)
        body(bytes)
        count += 1
    }
    return count
}
