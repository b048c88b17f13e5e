import CreditLine
import Foundation
@testable import CreditStore
import Testing
@testable import CreditAPI

/// Consent notices served in the customer's language (README "Consent").
@Suite struct ConsentNoticeTests {
    /// Every version published in languages (`<version>.<locale>.txt`) has every language, for
    /// every purpose; 2026-11, published before there were two, stays English alone and unchanged.
    @Test func everyNewVersionIsInBothLanguages() throws {
        let folder = repositoryRoot + "/config/notices"
        for purpose in ConsentPurpose.allCases {
            let files = try FileManager.default.contentsOfDirectory(atPath: folder + "/" + purpose.rawValue)
            let versions = Set(files.compactMap { file -> String? in
                let parts = file.split(separator: ".")
                return parts.count == 3 ? String(parts[0]) : nil
            })
            #expect(!versions.isEmpty, "\(purpose.rawValue) has no notice in languages")
            for version in versions {
                for locale in NoticeLocale.allCases {
                    #expect(files.contains("\(version).\(locale.rawValue).txt"), "\(purpose.rawValue) \(version) has no \(locale.rawValue) text")
                }
            }
        }
        // The English texts of 2026-11 are the ones customers agreed to: their hashes never change.
        #expect(ConsentTests.notice("credit_assessment") == "2494a3c5273b0d1cf987b848f04275f9a2c65fba7cb01856ecfc7c8d049e8279")
        #expect(ConsentTests.notice("credit_line") == "1a0b315364fdf298d9132bd53872f8dfcf589a9e95f5b31ba0f5ae5e2d267958")
    }

    /// The current notice in Chinese unless asked otherwise, with its hash; a grant naming that
    /// hash is taken, in Chinese by default or in the language it names.
    @Test func theNoticeIsServedAndItsHashGrants() async throws {
        let service = try TestService()
        let account = try await ConsentTests().account(service, "notice-1")
        let chinese = try await service.call("GET", "/v1/consent-notices?purpose=credit_assessment")
        #expect(chinese.status == 200, "\(chinese.text)")
        #expect(chinese.json["locale"] as? String == "zh-CN")
        #expect(chinese.json["version"] as? String == "2026-12")
        let text = try #require(chinese.json["text"] as? String)
        #expect(text.contains("撤回"))
        #expect(chinese.json["sha256"] as? String == Hashing.sha256Hex(Data(text.utf8)))
        let english = try await service.call("GET", "/v1/consent-notices?purpose=credit_assessment&locale=en")
        #expect(english.json["locale"] as? String == "en")
        #expect((english.json["text"] as? String)?.contains("withdraw") == true)

        func grant(_ hash: Any?, locale: String? = nil) async throws -> RawClient.Reply {
            let named = locale.map { #","notice_locale":"\#($0)""# } ?? ""
            return try await service.call("POST", "/v1/accounts/\(account)/consents", body: """
                {"purpose":"credit_assessment","notice_version":"2026-12","notice_sha256":"\(hash ?? "")"\(named),"channel":"app","method":"explicit_opt_in"}
                """)
        }
        // The English hash without naming English is not the Chinese text's.
        let wrong = try await grant(english.json["sha256"])
        #expect(wrong.status == 422)
        #expect(wrong.json["code"] as? String == "notice-mismatch")
        let taken = try await grant(chinese.json["sha256"])
        #expect(taken.status == 201, "\(taken.text)")
        _ = try await service.call("POST", "/v1/consents/\(try #require(taken.json["id"] as? String))/withdrawal",
                                   body: #"{"channel":"app"}"#)
        #expect(try await grant(english.json["sha256"], locale: "en").status == 201)
        // Today's callers keep working: 2026-11, English, named without a language.
        #expect(try await service.call("POST", "/v1/accounts/\(account)/consents",
                                       body: ConsentTests.grantBody(purpose: "credit_line")).status == 201)
        await service.stop()
    }

    @Test(arguments: [
        ("/v1/consent-notices", "purpose"), ("/v1/consent-notices?purpose=marketing", "purpose"),
        ("/v1/consent-notices?purpose=credit_line&locale=fr", "locale"),
    ])
    func aBadQueryIs422NamingTheField(path: String, field: String) async throws {
        let service = try TestService()
        let reply = try await service.call("GET", path)
        #expect(reply.status == 422)
        #expect(reply.json["field"] as? String == field)
        #expect(try await service.call("GET", "/v1/consent-notices?purpose=credit_line", role: .operator).status == 403)
        await service.stop()
    }
}
