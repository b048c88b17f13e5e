#if canImport(Glibc)
import Glibc
#endif
import CreditAPI

/// libFuzzer entry for request bodies: every input goes through the body decoders, the
/// duplicate-name scan and the personal-data check (`BodyFuzzing.run`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestBody(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    BodyFuzzing.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

#if !CREDITLINE_FUZZ
/// Without libFuzzer: replays corpus files given as arguments (CI does).
@main
struct CorpusReplay {
    static func main() throws {
        var count = 0
        for path in CommandLine.arguments.dropFirst() {
            guard let handle = fopen(path, "rb") else { continue }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = fread(&chunk, 1, chunk.count, handle)
                if n <= 0 { break }
                bytes.append(contentsOf: chunk[0..<n])
            }
            fclose(handle)
            BodyFuzzing.run(bytes)
            count += 1
        }
        print("replayed \(count) inputs")
    }
}
#endif
