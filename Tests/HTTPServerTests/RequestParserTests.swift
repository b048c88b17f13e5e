import HTTPTypes
import Testing
@testable import HTTPServer

/// The parser alone, on byte strings: what it accepts and what it makes of it.
@Suite struct RequestParserTests {
    static let limits = ParserLimits(maxRequestLineBytes: 64, maxHeaderBytes: 128, maxHeaderFields: 4, maxBodyBytes: 100)

    func parse(_ text: String, limits: ParserLimits = limits) throws -> (head: RequestHead, consumed: Int)? {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { try RequestParser.parseHead($0, limits: limits) }
    }

    func status(of text: String) -> Int? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return (error as? HTTPParseError)?.status.code
        }
    }

    @Test func parsesMethodTargetVersionAndFields() throws {
        let text = "POST /v1/accounts?x=1 HTTP/1.1\r\nHost: api.example:8080\r\nContent-Length: 7\r\nX-Thing:  a b \r\n\r\nrest"
        let (head, consumed) = try #require(try parse(text))
        #expect(head.request.method == .post)
        #expect(head.target == "/v1/accounts?x=1")
        #expect(head.request.authority == "api.example:8080")
        #expect(head.version == .http1_1)
        #expect(head.framing == .length(7))
        #expect(head.keepAlive)
        #expect(head.request.headerFields[HTTPField.Name("x-thing")!] == "a b")
        #expect(consumed == text.utf8.count - 4)
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: a\r\n", "no blank line yet"),
        ("GET / HTTP/1.1\r\nHost: a\r\n\r", "CR without its LF"),
        ("GET / HTT", "request line cut short"),
        ("", "nothing"),
    ])
    func incompleteHeadNeedsMoreBytes(text: String, why: String) throws {
        #expect(try parse(text) == nil, "\(why)")
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var text: String
        var status: Int
        var testDescription: String { text.debugDescription }
    }

    static let refusals: [Refusal] = [
        Refusal(text: "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", status: 400),
        Refusal(text: "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,\r\n\r\n", status: 400),
        Refusal(text: "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", status: 400),
        Refusal(text: "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n", status: 413),
        Refusal(text: "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\n\r\n", status: 400),
        Refusal(text: "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", status: 501),
        Refusal(text: "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", status: 400),
        Refusal(text: "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", status: 400),
        Refusal(text: "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", status: 400),
        Refusal(text: "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", status: 400),
        Refusal(text: "GET / HTTP/1.1\r\nHost: a\r\n\tX: y\r\n\r\n", status: 400),
        Refusal(text: "GET / HTTP/1.1\r\nHost: a\r\nX-A:\u{7f}\r\n\r\n", status: 400),
        Refusal(text: "GET /\u{7f} HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        Refusal(text: "GET /é HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        Refusal(text: " GET / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        Refusal(text: "GET / HTTP/11\r\nHost: a\r\n\r\n", status: 400),
        Refusal(text: "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", status: 431),
        Refusal(text: "GET /" + String(repeating: "a", count: 70) + " HTTP/1.1\r\n", status: 414),
        Refusal(text: "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "v", count: 130) + "\r\n\r\n", status: 431),
        Refusal(text: "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "v", count: 130), status: 431),
        Refusal(text: "OPTIONS example.com:80 HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        Refusal(text: "GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        Refusal(text: "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        Refusal(text: "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
    ]

    @Test(arguments: refusals)
    func refusesWithStatus(_ refusal: Refusal) {
        #expect(status(of: refusal.text) == refusal.status)
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", true),
        ("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", false),
        ("GET / HTTP/1.0\r\n\r\n", false),
        ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
        ("GET / HTTP/1.5\r\nHost: a\r\n\r\n", true),
    ])
    func keepAliveFollowsVersionAndConnection(text: String, keepAlive: Bool) throws {
        #expect(try #require(try parse(text)).head.keepAlive == keepAlive)
    }

    @Test func minorVersionAbove1IsServedAs11() throws {
        #expect(try #require(try parse("GET / HTTP/1.5\r\nHost: a\r\n\r\n")).head.version == .http1_1)
    }

    @Test(arguments: ["a", "a:80", "[::1]", "[::1]:8080", "", "xn--bcher-kva.example", "127.0.0.1:0"])
    func validHosts(host: String) {
        #expect(RequestParser.isValidHost(host))
    }

    @Test(arguments: ["a b", "a@b", "a:b", "a:1:2", "[]", "[::1", "a/b", "a\u{1}"])
    func invalidHosts(host: String) {
        #expect(!RequestParser.isValidHost(host))
    }

    @Test func absoluteFormAuthorityReplacesHost() throws {
        let (head, _) = try #require(try parse("GET HTTP://Other.example?q=1 HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(head.request.authority == "Other.example")
        #expect(head.target == "/?q=1")
    }

    @Test func asteriskFormOnlyWithOptions() throws {
        #expect(try #require(try parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")).head.target == "*")
    }

    @Test func chunkedFramingAndExpectContinue() throws {
        let (head, _) = try #require(try parse(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nExpect: 100-Continue\r\n\r\n"))
        #expect(head.framing == .chunked)
        #expect(head.expectsContinue)
    }

    @Test func expectContinueWithoutBodyIsIgnored() throws {
        let (head, _) = try #require(try parse("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n"))
        #expect(!head.expectsContinue)
    }
}

@Suite struct ChunkedDecoderTests {
    func decode(_ pieces: [String], maxBody: Int = 100) throws -> (body: String, done: Bool, rest: Int) {
        var decoder = ChunkedDecoder(maxBodyBytes: maxBody, maxTrailerBytes: 64)
        var body: [UInt8] = []
        var rest = 0
        for piece in pieces {
            let bytes = Array(piece.utf8)
            let used = try bytes.withUnsafeBytes { try decoder.decode($0, into: &body) }
            rest += bytes.count - used
        }
        return (String(decoding: body, as: UTF8.self), decoder.isDone, rest)
    }

    @Test func decodesAcrossArbitrarySplits() throws {
        let whole = "4\r\nWiki\r\n5;ext=\"x\"\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: v\r\n\r\n"
        for split in 1..<whole.utf8.count {
            let bytes = Array(whole.utf8)
            let first = String(decoding: bytes[..<split], as: UTF8.self)
            let second = String(decoding: bytes[split...], as: UTF8.self)
            let result = try decode([first, second])
            #expect(result.body == "Wikipedia in\r\n\r\nchunks.")
            #expect(result.done)
        }
    }

    @Test func stopsAtTheEndOfTheMessage() throws {
        let result = try decode(["1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n"])
        #expect(result.done)
        #expect(result.rest == "GET / HTTP/1.1\r\n".utf8.count)
    }

    @Test(arguments: [
        ("x\r\n", 400), ("\r\n", 400), ("5\nhello\r\n", 400), ("5\r\nhello\n", 400), ("5\r\nhelloX", 400),
        ("1;a\nb\r\n", 400), ("0\r\nX: y\nZ", 400), ("65\r\n", 413), ("FFFFFFFFFFFFFFFFF\r\n", 400),
        ("0000000000000000000001\r\nx\r\n", 200),
    ])
    func refusals(text: String, status: Int) {
        do {
            _ = try decode([text])
            #expect(status == 200)
        } catch {
            #expect((error as? HTTPParseError)?.status.code == status)
        }
    }

    @Test func bodyLimitCountsAcrossChunks() {
        #expect(throws: HTTPParseError.self) {
            try decode(["32\r\n" + String(repeating: "a", count: 50) + "\r\n33\r\n"])
        }
    }
}
