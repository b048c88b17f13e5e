import Foundation
import Testing

/// The shape docs/architecture.md describes, checked on the sources themselves.
@Suite struct ArchitectureTests {
    static func files(under folder: String, endingIn suffixes: [String]) throws -> [(path: String, text: String)] {
        let root = repositoryRoot + "/" + folder
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var found: [(String, String)] = []
        for case let relative as String in walker where suffixes.contains(where: relative.hasSuffix) {
            let path = folder + "/" + relative
            found.append((path, try String(contentsOfFile: repositoryRoot + "/" + path, encoding: .utf8)))
        }
        return found.sorted { $0.0 < $1.0 }
    }

    /// The store gathers facts and records decisions; every refusal comes from a rule in
    /// CreditLine. A `DomainError` made in CreditStore would be a rule decided there.
    @Test func theStoreDecidesNothing() throws {
        let offenders = try Self.files(under: "Sources/CreditStore", endingIn: [".swift"]).flatMap { file in
            file.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                .filter { $0.element.contains("DomainError(") || $0.element.contains("DomainError.") }
                .map { "\(file.path):\($0.offset + 1)" }
        }
        #expect(offenders.isEmpty, "rules decided in the store: \(offenders)")
    }

    /// The repository stands alone: comments cite the README, docs/, or the law, standard or RFC
    /// itself, never a document someone who clones it does not have. Migrations 0001–0007 are
    /// left as they are: an applied migration never changes (its checksum is checked on open).
    @Test func commentsCiteOnlyWhatTheRepositoryHolds() throws {
        var files: [(path: String, text: String)] = []
        for folder in ["Sources", "Tests", "scripts", "migrations", ".ci"] {
            files += try Self.files(under: folder, endingIn: [".swift", ".sql", ".py", ".c", ".h", "run", "bench-http",
                                                              "bench-audit", "bench-scoring", "build-release",
                                                              "fuzz-http", "schemathesis"])
        }
        files.removeAll { file in (1...7).contains { file.path.hasPrefix(String(format: "migrations/sqlite/%04d_", $0)) } }
        files.append(("Dockerfile", try String(contentsOfFile: repositoryRoot + "/Dockerfile", encoding: .utf8)))
        let outside = try Regex(#"(^|[^A-Z_])SPEC\b|\bREFERENCES(\.md| ")|STYLE\.md|DEVELOPERS\.md|\.\./shared"#)
        let offenders = files.flatMap { file in
            file.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                .filter { line in
                    let text = line.element.trimmingCharacters(in: .whitespaces)
                    let comment = text.hasPrefix("//") || text.hasPrefix("#") || text.hasPrefix("--")
                        || text.contains(" // ")
                    return comment && text.contains(outside)
                }
                .map { "\(file.path):\($0.offset + 1)" }
        }
        #expect(offenders.isEmpty, "citations of documents outside the repository: \(offenders)")
    }
}

/// The modules and what each may depend on (docs/architecture.md, "Modules"), read from the
/// package graph itself (`swift package dump-package`), and every source file's imports checked
/// against its target's declared dependencies: a module cannot lean on another by an import the
/// graph does not show.
@Suite struct ModuleGraphTests {
    /// Our modules each of ours may depend on.
    static let allowed: [String: Set<String>] = [
        "CreditLine": [],
        "HTTPServer": ["CLinux", "CZlib"],
        "CreditStore": ["CreditLine"],
        "CreditApp": ["CreditLine", "CreditStore"],
        "CreditAPI": ["HTTPServer", "CreditLine", "CreditStore", "CreditApp"],
        "creditline": ["CreditAPI", "CreditApp", "CreditStore", "CreditLine", "HTTPServer"],
        "FuzzSupport": [],
        "HTTPFuzz": ["HTTPServer", "FuzzSupport"],
        "JSONFuzz": ["CreditAPI", "FuzzSupport"],
        "HTTPServerPeer": ["HTTPServer"],
        "CZlib": [], "CLinux": [],
    ]
    /// The domain and the HTTP server import nothing beyond the standard library, Foundation and
    /// (for the server) its two C shims and the HTTP types and logging APIs.
    static let outsideImports: [String: Set<String>] = [
        "CreditLine": ["Foundation", "Synchronization", "Glibc", "Darwin"],
        "HTTPServer": ["Foundation", "Glibc", "Darwin", "Synchronization", "CLinux", "CZlib", "HTTPTypes", "Logging", "Dispatch"],
    ]

    @Test func theGraphIsTheLayering() throws {
        // A scratch folder of its own: the one in the repository is locked by the `swift test`
        // running this, and a second SwiftPM would wait for it.
        let scratch = NSTemporaryDirectory() + "creditline-graph-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let dump = try ChildProcess.run("/usr/bin/env", ["swift", "package", "--scratch-path", scratch, "dump-package"],
                                        directory: repositoryRoot, deadline: .seconds(120))
        #expect(dump.termination == .exited(0), "\(dump.stderr)")
        let package = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        let targets = try #require(package["targets"] as? [[String: Any]])
        var declared: [String: Set<String>] = [:]
        for target in targets {
            let name = try #require(target["name"] as? String)
            let dependencies = (target["dependencies"] as? [[String: Any]] ?? []).compactMap { dependency in
                (dependency["byName"] as? [Any])?.first as? String
            }
            declared[name] = Set(dependencies)
        }
        let ours = Set(Self.allowed.keys)
        for (name, allowed) in Self.allowed {
            let dependencies = try #require(declared[name], "\(name) is not in the package")
            #expect(dependencies.isSubset(of: allowed), "\(name) depends on \(dependencies.subtracting(allowed).sorted())")
        }
        // Each file imports only its target's declared dependencies among our modules.
        for target in ours where FileManager.default.fileExists(atPath: repositoryRoot + "/Sources/" + target) {
            for file in try ArchitectureTests.files(under: "Sources/" + target, endingIn: [".swift"]) {
                let imports = file.text.split(separator: "\n").compactMap { line -> String? in
                    let text = line.trimmingCharacters(in: .whitespaces)
                    for prefix in ["import ", "@_exported import ", "@testable import "] where text.hasPrefix(prefix) {
                        return String(text.dropFirst(prefix.count)).components(separatedBy: " ").first
                    }
                    return nil
                }
                for module in imports where ours.contains(module) {
                    #expect(declared[target]?.contains(module) == true, "\(file.path) imports \(module), not a dependency of \(target)")
                }
                if let outside = Self.outsideImports[target] {
                    for module in imports where !outside.contains(module) {
                        Issue.record("\(file.path) imports \(module): \(target) imports only \(outside.sorted())")
                    }
                }
            }
        }
    }
}
