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
}
