import CreditLine
import Foundation
import Testing
@testable import CreditAPI

@Suite struct OpenAPITests {
    /// The published description and the router agree: every route is described, and every
    /// described operation exists.
    @Test func everyRouteIsDescribedAndNothingElse() async throws {
        let service = try TestService()
        let reply = try service.call("GET", "/openapi.json", role: nil)
        #expect(reply.status == 200)
        #expect(reply.json["openapi"] as? String == "3.1.0")
        let paths = try #require(reply.json["paths"] as? [String: [String: Any]])
        var described = Set<String>()
        for (path, methods) in paths {
            for method in methods.keys { described.insert("\(method.uppercased()) \(path)") }
        }
        let routed = Set(service.application.makeRouter().routes.map { "\($0.method) \($0.pattern)" })
        #expect(routed.subtracting(described).sorted() == [])
        #expect(described.subtracting(routed).sorted() == [])
        await service.stop()
    }

    /// Closed sets the description enumerates stay the sets the server accepts.
    @Test func enumeratedValuesMatchTheServers() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/config/openapi.json"))
        let text = String(decoding: data, as: UTF8.self)
        var actions = Set<String>()
        var notices = Set<String>()
        func walk(_ value: Any) {
            if let object = value as? [String: Any] {
                if object["name"] as? String == "action", let schema = object["schema"] as? [String: Any] {
                    actions.formUnion(schema["enum"] as? [String] ?? [])
                }
                if let version = object["notice_version"] as? [String: Any] {
                    notices.formUnion(version["enum"] as? [String] ?? [])
                }
                object.values.forEach(walk)
            } else if let array = value as? [Any] {
                array.forEach(walk)
            }
        }
        walk(try JSONSerialization.jsonObject(with: data))
        #expect(actions == Set(AuditAction.allCases.map(\.rawValue)))
        var published = Set<String>()
        for purpose in ["credit_assessment", "credit_line"] {
            let files = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/config/notices/\(purpose)")
            published.formUnion(files.filter { $0.hasSuffix(".txt") }.map { String($0.dropLast(4)) })
        }
        #expect(notices == published)
        #expect(!text.isEmpty)
    }
}
