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
