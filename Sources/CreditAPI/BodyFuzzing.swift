import CreditLine
import HTTPServer
import HTTPTypes

/// The entry point for the request-body fuzzer (Sources/JSONFuzz, scripts/fuzz-json): one input
/// through everything that reads caller text before a rule sees it. Refusals are expected; a
/// crash, trap or sanitizer report is a bug.
public enum BodyFuzzing {
    public static func run(_ bytes: [UInt8]) {
        let request = Request(head: HTTPRequest(method: .post, scheme: nil, authority: "fuzz", path: "/"),
                              target: "/", body: bytes)
        _ = try? RequestBody.decode(AccountRoutes.CreateRequest.self, from: request)
        _ = try? RequestBody.decode(ConsentRoutes.GrantRequest.self, from: request)
        _ = try? RequestBody.decode(LineRoutes.AdjustmentRequest.self, from: request)
        _ = try? RequestBody.decode(LineRoutes.ResolutionRequest.self, from: request)
        _ = try? RequestBody.decode(ScoringRoutes.ScoreRequest.self, from: request)
        _ = ObjectNames.scan(bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        _ = PersonalData.detect(text)
        _ = Echo.bounded(text)
        _ = try? CustomerRef.validate(text)
        _ = try? Tenant.validate(text)
    }
}
