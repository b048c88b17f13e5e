import HTTPTypes
/// Every limit and default of the HTTP server, each with the reason for its value.
public struct ServerConfiguration: Sendable {
    /// Address to bind. Loopback by default: exposing the service is a deliberate act.
    public var host: String = "127.0.0.1"
    /// TCP port; 0 asks the kernel for an ephemeral one (read it back from `HTTPServer.port`).
    public var port: Int = 8080
    /// Event-loop threads: one per core. Each loop is also the executor of its connections'
    /// handler tasks, and a handler's reads run on it (README "Decisions"), so every core can
    /// serve. (On this 2-core machine with the load generator beside it, 2 loops served 26 %
    /// more GET /healthz and 26 % more authenticated account reads than 1: BENCHMARKS.md.)
    public var eventLoopThreads: Int = max(1, System.coreCount)
    /// Listen backlog; the kernel clamps it to somaxconn.
    public var backlog: Int32 = 1024

    /// RFC 9112 §3: a server should support request lines of at least 8,000 octets; longer → 414.
    public var maxRequestLineBytes: Int = 8 * 1024
    /// Header section cap (RFC 6585 §5 answers 431). 16 KiB is ample for an API with bearer
    /// tokens and keeps a slow or hostile client's buffer small.
    public var maxHeaderBytes: Int = 16 * 1024
    /// Field count cap (431): a JSON API needs a dozen; hash-flooding needs thousands.
    public var maxHeaderFields: Int = 100
    /// Body cap (413). The largest legitimate request (a scoring call) is well under 4 KiB.
    public var maxBodyBytes: Int = 1024 * 1024
    /// Upload paths (a portfolio review's rows) that may carry up to `maxBulkBodyBytes`. Before
    /// any of such a body is read the responder is asked whether to take it (`admit`): a request
    /// without the right key is answered from its head, and an admitted upload is spooled to a
    /// file in `spoolDirectory` as it arrives, never held in memory.
    public var bulkBodyPaths: Set<String> = []
    public var maxBulkBodyBytes: Int = 0
    /// Request bodies held in memory across every connection at once. A request whose body
    /// would take the total over it is answered 503 with `Retry-After` and its connection
    /// closed: a crowd of large bodies, each under `maxBodyBytes`, cannot take the process's
    /// memory. Memory is counted as bytes arrive, never reserved from a `Content-Length`.
    public var maxBufferedBodyBytes: Int = 64 << 20
    /// Bytes of admitted uploads spooled to disk at once, across every upload; an upload that
    /// would pass it is answered 503 with `Retry-After` and its connection closed.
    public var maxSpooledBodyBytes: Int = 256 << 20
    /// Where admitted uploads are spooled (the file is unlinked at once: it vanishes with the
    /// request, even if the process dies).
    public var spoolDirectory: String = "/tmp"

    /// Time allowed from the first byte of a request until its header section is complete
    /// (slowloris defence). Also bounds each gap while a body is being received.
    public var headerReadTimeout: Duration = .seconds(10)
    /// Time allowed for the whole body of a request once its head is in.
    public var bodyReadTimeout: Duration = .seconds(30)
    /// An idle keep-alive connection is closed after this; clients reconnect cheaply.
    public var idleTimeout: Duration = .seconds(60)
    /// A response the client does not read within this is abandoned and the connection closed.
    public var writeTimeout: Duration = .seconds(30)
    /// Connections above this are answered 503 and closed: each costs a descriptor and buffers,
    /// and the process must keep serving the ones it has.
    public var maxConnections: Int = 10_000

    /// Bodies above this size are gzip-compressed when the client accepts gzip; below about one
    /// packet the header and CPU cost outweigh the saving.
    public var gzipMinimumBytes: Int = 1024
    /// zlib level 6 (its default) balances ratio and CPU.
    public var gzipLevel: Int32 = 6

    /// Graceful shutdown waits this long for in-flight requests (README "Operations": 10 s at most).
    public var shutdownGracePeriod: Duration = .seconds(10)

    /// A header naming each request (`X-Request-Id`), added with a fresh value to the answers the
    /// server makes itself (400s for unparseable requests, 408, 503 at the connection cap), which
    /// never reach the application that names the others. Nil: none.
    public var requestIDField: String? = nil

    /// `Server` response header; nil omits it (RFC 9110 §10.2.4: revealing details helps attackers).
    public var serverName: String? = nil

    /// The methods the application sees: RFC 9110's less CONNECT, plus PATCH (RFC 5789) and QUERY
    /// (the IETF's safe method with a body, which API testers send); where a route lacks one of
    /// them the router answers 405 with Allow. Anything else is answered 501 by
    /// the connection itself: a closed set keeps metric labels and logs bounded whatever a
    /// client sends.
    public static let implementedMethods: Set<HTTPRequest.Method> = [.get, .head, .post, .put, .delete, .options, .trace,
                                                                     .patch, HTTPRequest.Method("QUERY")!]

    public init() {}
}
