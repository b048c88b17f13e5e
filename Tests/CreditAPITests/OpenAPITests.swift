import CreditLine
import Foundation
import HTTPServer
import Testing
@testable import CreditAPI

@Suite struct OpenAPITests {
    /// The published description and the router agree: every route is described, and every
    /// described operation exists.
    @Test func everyRouteIsDescribedAndNothingElse() async throws {
        let service = try TestService()
        let reply = try await service.call("GET", "/openapi.json", role: nil)
        #expect(reply.status == 200)
        #expect(reply.json["openapi"] as? String == "3.1.0")
        let paths = try #require(reply.json["paths"] as? [String: [String: Any]])
        var described = Set<String>()
        var demoOnly = Set<String>()
        for (path, methods) in paths {
            for (method, operation) in methods {
                let name = "\(method.uppercased()) \(path)"
                described.insert(name)
                if (operation as? [String: Any])?["x-demo-only"] as? Bool == true { demoOnly.insert(name) }
            }
        }
        #expect(demoOnly == ["POST /v1/demo/clock"])
        // The console's pages and the customer's own are HTML for people, not the API (README
        // "Console", "The customer's own pages").
        let routed = Set(service.application.makeRouter().routes.map { "\($0.method) \($0.pattern)" }
            .filter { !$0.contains(" /console") && !$0.contains(" /c/") })
        #expect(routed.subtracting(described).sorted() == [])
        #expect(described.subtracting(demoOnly).subtracting(routed).sorted() == [])
        // Under the demo clock, the demo routes exist too, and nothing else is added.
        let demo = try TestService(clock: DemoClock())
        let demoRouted = Set(demo.application.makeRouter().routes.map { "\($0.method) \($0.pattern)" }
            .filter { !$0.contains(" /console") && !$0.contains(" /c/") })
        #expect(demoRouted == described)
        await demo.stop()
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
            // <version>.txt (2026-11, English alone) and <version>.<locale>.txt: the version is the first part.
            published.formUnion(files.filter { $0.hasSuffix(".txt") }.map { String($0.dropLast(4).split(separator: ".")[0]) })
        }
        #expect(notices == published)
        #expect(!text.isEmpty)
    }

    /// A limit above the policy maximum is never accepted, so the description's maximum for every
    /// limit a caller sends is that maximum (schemathesis then never calls such a request valid).
    @Test func limitMaximaAreThePolicyMaximum() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/config/openapi.json"))
        let paths = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["paths"] as? [String: Any])
        func property(_ path: String, _ method: String, _ name: String) -> [String: Any]? {
            let operation = (paths[path] as? [String: Any])?[method] as? [String: Any]
            let body = (operation?["requestBody"] as? [String: Any])?["content"] as? [String: Any]
            let schema = (body?["application/json"] as? [String: Any])?["schema"] as? [String: Any]
            return (schema?["properties"] as? [String: Any])?[name] as? [String: Any]
        }
        let policyMax = ServiceConfiguration().limitMax
        for (path, name) in [("/v1/accounts/{id}/limit-adjustments", "new_limit"), ("/v1/reviews/{id}/resolution", "credit_limit")] {
            let maximum = try #require(property(path, "post", name)?["maximum"] as? Int, "\(path) \(name)")
            #expect(maximum == policyMax, "\(path) \(name)")
        }
    }

    /// The Problem schema's `code` lists exactly the codes the service can answer: the domain's
    /// and the API's (ProblemCode), of which the HTTP server's own (ServerProblemCode) are part.
    @Test func problemCodesAreExactlyTheEnums() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/config/openapi.json"))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let components = try #require(document["components"] as? [String: Any])
        let schemas = try #require(components["schemas"] as? [String: Any])
        let problem = try #require(schemas["Problem"] as? [String: Any])
        let properties = try #require(problem["properties"] as? [String: Any])
        let code = try #require(properties["code"] as? [String: Any])
        let listed = Set(try #require(code["enum"] as? [String]))
        #expect(listed == Set(ProblemCode.allCases.map(\.rawValue)))
        #expect(Set(ServerProblemCode.allCases.map(\.rawValue)).isSubset(of: listed))
    }
}
