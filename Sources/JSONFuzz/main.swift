#if canImport(Glibc)
import Glibc
#endif
import CreditAPI
import FuzzSupport

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
    static func main() {
        let count = replayCorpus(CommandLine.arguments.dropFirst()) { BodyFuzzing.run($0) }
        print("replayed \(count) inputs")
    }
}
#endif
