// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "creditline",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "HTTPServer", targets: ["HTTPServer"]),
        .executable(name: "creditline", targets: ["creditline"]),
        .executable(name: "http-fuzz", targets: ["HTTPFuzz"]),
        .executable(name: "json-fuzz", targets: ["JSONFuzz"]),
        .executable(name: "http-server-peer", targets: ["HTTPServerPeer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Traces (README "Operations", "Traces"): the API in the libraries, swift-otel's OTLP/HTTP
        // exporter in the executable only; its gRPC trait stays off (a much longer build).
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // zlib's deflateInit2 is a macro; the shim makes it callable (STYLE.md, CZlib).
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // epoll and eventfd headers, which the Glibc module leaves out.
        .systemLibrary(name: "CLinux"),
        .target(
            name: "HTTPServer",
            dependencies: [
                "CZlib",
                "CLinux",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The domain: pure rules, no I/O.
        .target(name: "CreditLine"),
        .target(
            name: "CreditStore",
            dependencies: [
                "CreditLine",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The C API itself, for the audit verifier's inner loop (raw column bytes).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                // The second store (README "Running on PostgreSQL"), driven through NIO futures.
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // TLS to the database: sslmode and sslrootcert (README "TLS to the database").
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]),
        // The use cases beside request handling: the sweeps, the webhook deliverer and the
        // periodic-review runner, run together as a swift-service-lifecycle ServiceGroup.
        .target(
            name: "CreditApp",
            dependencies: [
                "CreditLine", "CreditStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // Webhook pushes: bounded answers and a whole-attempt deadline (README "Events and notices").
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]),
        .target(
            name: "CreditAPI",
            dependencies: [
                "HTTPServer", "CreditLine", "CreditStore", "CreditApp",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]),
        .executableTarget(
            name: "creditline",
            dependencies: [
                "CreditAPI", "CreditApp", "CreditStore", "CreditLine", "HTTPServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]),
        // libFuzzer entry point for the request parser. Built normally it is a corpus replayer;
        // scripts/fuzz-http builds it with -DCREDITLINE_FUZZ so libFuzzer supplies main.
        // Corpus replay shared by the fuzz targets' executables.
        .target(name: "FuzzSupport"),
        .executableTarget(
            name: "HTTPFuzz",
            dependencies: ["HTTPServer", "FuzzSupport"],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        // libFuzzer entry point for request bodies (scripts/fuzz-json), a corpus replayer otherwise.
        .executableTarget(
            name: "JSONFuzz",
            dependencies: ["CreditAPI", "FuzzSupport"],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        // Raw-socket HTTP client and polling helpers shared by the socket tests.
        // The one test-support target every suite shares: children, raw clients, hostile receivers,
        // the test database and its traits.
        .target(name: "TestSupport", dependencies: ["CSpawn", "CZlib", "CreditStore"], path: "Tests/TestSupport"),
        // glibc's posix_spawn extensions (chdir, closefrom) for the tests' ChildProcess.
        .target(name: "CSpawn", path: "Tests/CSpawn"),
        // The HTTP server alone, with the peers' endpoints, for scripts/bench.
        .executableTarget(name: "HTTPServerPeer", dependencies: ["HTTPServer"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "TestSupport"], exclude: ["Fuzz"]),
        .testTarget(name: "CreditLineTests", dependencies: ["CreditLine", "TestSupport"]),
        .testTarget(
            name: "CreditStoreTests",
            dependencies: ["CreditStore", "CreditLine", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            // Databases written by earlier code, read from the repository by path (copied first).
            exclude: ["Fixtures"]),
        .testTarget(
            name: "CreditAPITests",
            dependencies: [
                "CreditAPI", "CreditApp", "CreditStore", "CreditLine", "HTTPServer", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            exclude: ["Fuzz"]),
    ]
)
