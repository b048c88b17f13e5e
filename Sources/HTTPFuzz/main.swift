#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import HTTPServer

/// Feeds arbitrary bytes through the request parser and chunked decoder the way a connection
/// does. Any crash, trap or sanitizer report is a bug; thrown parse errors are expected.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let limits = ParserLimits(maxRequestLineBytes: 512, maxHeaderBytes: 1024, maxHeaderFields: 16,
                              maxBodyBytes: 4096)
    var offset = 0
    // Up to a few pipelined requests per input, as a keep-alive connection would see them.
    for _ in 0..<4 {
        let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
        guard let parsed = try? RequestParser.parseHead(rest, limits: limits) else { return 0 }
        offset += parsed.consumed
        switch parsed.head.framing {
        case .none:
            break
        case .length(let length):
            offset += min(length, bytes.count - offset)
        case .chunked:
            var decoder = ChunkedDecoder(maxBodyBytes: limits.maxBodyBytes, maxTrailerBytes: limits.maxHeaderBytes)
            var body: [UInt8] = []
            guard let used = try? decoder.decode(UnsafeRawBufferPointer(rebasing: bytes[offset...]), into: &body)
            else { return 0 }
            precondition(body.count <= limits.maxBodyBytes, "chunked body exceeded its limit")
            offset += used
        }
        if offset >= bytes.count { return 0 }
    }
    return 0
}

#if !CREDITLINE_FUZZ
/// Without libFuzzer: replays corpus files given as arguments (used by tests and CI).
@main
struct CorpusReplay {
    static func main() {
        let count = replayCorpus(CommandLine.arguments.dropFirst()) { bytes in
            _ = bytes.withUnsafeBufferPointer { fuzzRequestParser($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
        }
        print("replayed \(count) inputs")
    }
}
#endif
