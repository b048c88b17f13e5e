// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "creditline",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "HTTPServer", targets: ["HTTPServer"]),
        .executable(name: "creditline", targets: ["creditline"]),
        .executable(name: "http-fuzz", targets: ["HTTPFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
        .executableTarget(
            name: "creditline",
            dependencies: [
                "HTTPServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // libFuzzer entry point for the request parser. Built normally it is a corpus replayer;
        // scripts/fuzz-http builds it with -DCREDITLINE_FUZZ so libFuzzer supplies main.
        .executableTarget(
            name: "HTTPFuzz",
            dependencies: ["HTTPServer"],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer"], exclude: ["Fuzz"]),
    ]
)
