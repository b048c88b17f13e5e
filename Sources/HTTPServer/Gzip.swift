import CZlib

/// gzip (RFC 1952) through the system zlib. windowBits 16+15 asks zlib for the gzip wrapper.
public enum Gzip {
    public static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8]? {
        var stream = z_stream()
        guard czlib_deflate_init2(&stream, level, 16 + 15, 8) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(input.count)))
        var output = [UInt8](repeating: 0, count: bound)
        let status: Int32 = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.avail_in = UInt32(source.count)
                stream.next_out = destination.baseAddress
                stream.avail_out = UInt32(destination.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    /// Inflates a gzip stream; used by tests and by clients of the audit export.
    public static func decompress(_ input: [UInt8], limit: Int = 64 << 20) -> [UInt8]? {
        var stream = z_stream()
        guard czlib_inflate_init2(&stream, 16 + 15) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        return input.withUnsafeBufferPointer { source -> [UInt8]? in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = UInt32(source.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { destination -> (Int32, Int) in
                    stream.next_out = destination.baseAddress
                    stream.avail_out = UInt32(destination.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, destination.count - Int(stream.avail_out))
                }
                output.append(contentsOf: chunk[0..<produced])
                if output.count > limit { return nil }
                if status == Z_STREAM_END { return output }
                if status != Z_OK { return nil }
            }
        }
    }

    /// RFC 9110 §12.5.3: gzip is acceptable unless listed (or matched by `*`) with q=0.
    public static func isAccepted(by acceptEncoding: String?) -> Bool {
        guard let acceptEncoding else { return false }
        var gzip: Bool? = nil
        var wildcard: Bool? = nil
        for element in acceptEncoding.split(separator: ",") {
            let parts = element.split(separator: ";")
            guard let coding = parts.first.map({ RequestParser.trimOWS($0).lowercased() }) else { continue }
            var allowed = true
            for parameter in parts.dropFirst() {
                let trimmed = RequestParser.trimOWS(parameter).lowercased()
                if trimmed.hasPrefix("q="), let q = Double(trimmed.dropFirst(2)) { allowed = q > 0 }
            }
            switch coding {
            case "gzip", "x-gzip": gzip = allowed
            case "*": wildcard = allowed
            default: break
            }
        }
        return gzip ?? wildcard ?? false
    }
}
