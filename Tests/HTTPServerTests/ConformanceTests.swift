import Foundation
import Testing
@testable import HTTPServer

/// RFC 9112's MUST cases and the request-smuggling and malformed-input payloads that public
/// catalogues describe (CL.TE, TE.CL and TE.TE obfuscations; framing, field-line and request-line
/// oddities), written here from their descriptions. Each is sent with a well-formed request
/// pipelined behind it: a refusal must answer with its status and close without answering the
/// follow-up (nothing after a framing error can be trusted); an accepted request must be read to
/// its real end, so the follow-up is answered as itself. Either way nothing desynchronises.
@Suite struct ConformanceTests {
    enum Expected: Sendable { case refused(Int), echoed(String) }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var raw: String
        var expected: Expected
        var testDescription: String { name }
    }

    static let followUp = "GET /items/follow-up HTTP/1.1\r\nHost: a\r\n\r\n"
    static func post(_ headers: String, _ body: String) -> String { "POST /echo HTTP/1.1\r\nHost: a\r\n\(headers)\r\n\(body)" }

    static let cases: [Case] = [
        // CL.TE and TE.CL: both framings present (RFC 9112 §6.1: a server MAY reject; we do, and close).
        Case(name: "CL.TE", raw: post("Content-Length: 6\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\nG"), expected: .refused(400)),
        Case(name: "TE.CL", raw: post("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", "8\r\nSMUGGLED\r\n0\r\n\r\n"),
             expected: .refused(400)),
        // TE.TE: obfuscated Transfer-Encoding that one parser honours and another ignores.
        Case(name: "TE with a tab before the value", raw: post("Transfer-Encoding:\tchunked\r\n", "0\r\n\r\n"),
             expected: .echoed("")),
        Case(name: "TE with a space before the colon", raw: post("Transfer-Encoding : chunked\r\n", "0\r\n\r\n"),
             expected: .refused(400)),
        Case(name: "TE xchunked", raw: post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"), expected: .refused(501)),
        // The codings combine to "chunked, x": chunked is not the final coding (RFC 9112 §6.3).
        Case(name: "TE chunked then a second TE line", raw: post("Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n", "0\r\n\r\n"),
             expected: .refused(400)),
        Case(name: "TE quoted", raw: post("Transfer-Encoding: \"chunked\"\r\n", "0\r\n\r\n"), expected: .refused(501)),
        Case(name: "TE with a trailing vertical tab", raw: post("Transfer-Encoding: chunked\u{0B}\r\n", "0\r\n\r\n"),
             expected: .refused(400)),
        Case(name: "TE folded onto the next line", raw: post("Transfer-Encoding:\r\n chunked\r\n", "0\r\n\r\n"),
             expected: .refused(400)),
        Case(name: "TE name with a leading space line", raw: post(" Transfer-Encoding: chunked\r\n", "0\r\n\r\n"),
             expected: .refused(400)),
        Case(name: "TE name in upper case is the same field", raw: post("TRANSFER-ENCODING: chunked\r\n", "3\r\nabc\r\n0\r\n\r\n"),
             expected: .echoed("abc")),
        Case(name: "TE value in mixed case is the same coding", raw: post("Transfer-Encoding: ChUnKeD\r\n", "3\r\nabc\r\n0\r\n\r\n"),
             expected: .echoed("abc")),
        Case(name: "TE in HTTP/1.0", raw: "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
             expected: .refused(400)),
        // Content-Length (RFC 9112 §6.3).
        Case(name: "CL with a leading space in the value is fine", raw: post("Content-Length:  3\r\n", "abc"), expected: .echoed("abc")),
        Case(name: "CL with an underscore name is just a field", raw: post("Content_Length: 3\r\n", ""), expected: .echoed("")),
        Case(name: "CL repeated identically", raw: post("Content-Length: 3\r\nContent-Length: 3\r\n", "abc"), expected: .echoed("abc")),
        Case(name: "CL repeated differently", raw: post("Content-Length: 3\r\nContent-Length: 4\r\n", "abcd"), expected: .refused(400)),
        Case(name: "CL with leading zeros", raw: post("Content-Length: 003\r\n", "abc"), expected: .echoed("abc")),
        Case(name: "CL with a plus sign", raw: post("Content-Length: +3\r\n", "abc"), expected: .refused(400)),
        Case(name: "CL in exponent form", raw: post("Content-Length: 3e0\r\n", "abc"), expected: .refused(400)),
        Case(name: "CL with a NUL", raw: post("Content-Length: 3\u{0}\r\n", "abc"), expected: .refused(400)),
        // Chunked framing (RFC 9112 §7.1).
        Case(name: "chunk size with leading zeros", raw: post("Transfer-Encoding: chunked\r\n", "0003\r\nabc\r\n0\r\n\r\n"),
             expected: .echoed("abc")),
        Case(name: "chunk size in upper-case hex", raw: post("Transfer-Encoding: chunked\r\n", "A\r\n0123456789\r\n0\r\n\r\n"),
             expected: .echoed("0123456789")),
        Case(name: "negative chunk size", raw: post("Transfer-Encoding: chunked\r\n", "-3\r\nabc\r\n0\r\n\r\n"), expected: .refused(400)),
        Case(name: "chunk size with 0x", raw: post("Transfer-Encoding: chunked\r\n", "0x3\r\nabc\r\n0\r\n\r\n"), expected: .refused(400)),
        Case(name: "chunk size line ended by LF", raw: post("Transfer-Encoding: chunked\r\n", "3\nabc\r\n0\r\n\r\n"), expected: .refused(400)),
        Case(name: "chunk data ended by LF", raw: post("Transfer-Encoding: chunked\r\n", "3\r\nabc\n0\r\n\r\n"), expected: .refused(400)),
        Case(name: "chunk data longer than its size", raw: post("Transfer-Encoding: chunked\r\n", "3\r\nabcd\r\n0\r\n\r\n"),
             expected: .refused(400)),
        Case(name: "chunk extension", raw: post("Transfer-Encoding: chunked\r\n", "3;name=value\r\nabc\r\n0\r\n\r\n"),
             expected: .echoed("abc")),
        Case(name: "chunk extension with a quoted value", raw: post("Transfer-Encoding: chunked\r\n", "3;n=\"v;w\"\r\nabc\r\n0\r\n\r\n"),
             expected: .echoed("abc")),
        Case(name: "space before a chunk extension", raw: post("Transfer-Encoding: chunked\r\n", "3 ;n=v\r\nabc\r\n0\r\n\r\n"),
             expected: .refused(400)),
        Case(name: "a trailer field", raw: post("Transfer-Encoding: chunked\r\n", "3\r\nabc\r\n0\r\nChecksum: 1\r\n\r\n"),
             expected: .echoed("abc")),
        Case(name: "a request line where a trailer field belongs",
             raw: post("Transfer-Encoding: chunked\r\n", "0\r\nPOST /echo HTTP/1.1\r\n\r\n"), expected: .refused(400)),
        Case(name: "last chunk without its CRLF", raw: post("Transfer-Encoding: chunked\r\n", "0\r\nX"), expected: .refused(400)),
        // Request line (RFC 9112 §3) and Host (RFC 9112 §3.2: a 1.1 request without exactly one Host is 400).
        Case(name: "no Host in HTTP/1.1", raw: "GET /healthz HTTP/1.1\r\n\r\n", expected: .refused(400)),
        Case(name: "two Host fields", raw: "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", expected: .refused(400)),
        Case(name: "Host with a space", raw: "GET /healthz HTTP/1.1\r\nHost: a b\r\n\r\n", expected: .refused(400)),
        Case(name: "two spaces in the request line", raw: "GET  /healthz HTTP/1.1\r\nHost: a\r\n\r\n", expected: .refused(400)),
        Case(name: "a tab in the request line", raw: "GET\t/healthz HTTP/1.1\r\nHost: a\r\n\r\n", expected: .refused(400)),
        Case(name: "a space in the target", raw: "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", expected: .refused(400)),
        Case(name: "lower-case version", raw: "GET /healthz http/1.1\r\nHost: a\r\n\r\n", expected: .refused(400)),
        Case(name: "version with three numbers", raw: "GET /healthz HTTP/1.1.1\r\nHost: a\r\n\r\n", expected: .refused(400)),
        Case(name: "HTTP/2.0 over HTTP/1 framing", raw: "GET /healthz HTTP/2.0\r\nHost: a\r\n\r\n", expected: .refused(505)),
        Case(name: "NUL in the target", raw: "GET /a\u{0}b HTTP/1.1\r\nHost: a\r\n\r\n", expected: .refused(400)),
        Case(name: "a request line with no version", raw: "GET /healthz\r\nHost: a\r\n\r\n", expected: .refused(400)),
        Case(name: "an asterisk target with GET", raw: "GET * HTTP/1.1\r\nHost: a\r\n\r\n", expected: .refused(400)),
        Case(name: "a CR alone ending the request line", raw: "GET /healthz HTTP/1.1\rHost: a\r\n\r\n", expected: .refused(400)),
        // Field lines (RFC 9112 §5).
        Case(name: "a field line without a colon", raw: "GET /healthz HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", expected: .refused(400)),
        Case(name: "DEL in a value", raw: "GET /healthz HTTP/1.1\r\nHost: a\r\nX: a\u{7F}\r\n\r\n", expected: .refused(400)),
        Case(name: "an unsupported expectation", raw: post("Expect: 200-ok\r\nContent-Length: 0\r\n", ""), expected: .refused(417)),
    ]

    @Test(arguments: cases)
    func nothingDesynchronises(_ testCase: Case) async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port, receiveTimeout: 2)
            client.send(testCase.raw + Self.followUp)
            let reply = try #require(client.read(), "no answer")
            switch testCase.expected {
            case .refused(let status):
                #expect(reply.status == status)
                #expect(reply.header("Connection") == "close")
                // Closed without a second answer: the follow-up was never read as a request.
                #expect(client.read() == nil)
            case .echoed(let body):
                #expect(reply.status == 200)
                #expect(String(decoding: reply.body, as: UTF8.self) == body)
                let next = try #require(client.read(), "the follow-up was not answered")
                #expect(String(decoding: next.body, as: UTF8.self) == #"{"id":"follow-up"}"#)
            }
            #expect(try stillServes(server))
        }
    }
}
