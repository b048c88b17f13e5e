import Testing
@testable import CreditLine

@Suite struct PersonalDataTests {
    @Test(arguments: [
        // GB 11643 sample numbers with valid check characters.
        ("11010519491231002X", PersonalData.Kind.residentID),
        ("110105194912310029", nil),  // wrong check digit: not an ID, just digits
        ("440524188001010014", .residentID),
        ("ref-440524188001010014-x", .residentID),
        ("13812345678", .mobileNumber),
        ("8613812345678", .mobileNumber),
        ("cust_13812345678", .mobileNumber),
        ("23812345678", nil),
        ("1381234567", nil),
        ("wang.li@example.cn", .email),
        ("a@b.c", .email),
        ("shop-42", nil),
        ("c-001", nil),
        ("order:2026-11-25", nil),
        ("user@", nil),
    ])
    func detectsIdentifierShapes(text: String, kind: PersonalData.Kind?) {
        #expect(PersonalData.detect(text) == kind)
    }

    @Test(arguments: ["11010519491231002X", "13812345678", "x@example.com"])
    func customerRefRefusesPersonalData(value: String) {
        do {
            _ = try CustomerRef.validate(value)
            Issue.record("\(value) was accepted")
        } catch {
            #expect(error.code == "pii-not-allowed")
            #expect(error.field == "customer_ref")
        }
    }

    @Test(arguments: [("", false), ("a", true), (String(repeating: "a", count: 64), true),
                      (String(repeating: "a", count: 65), false), ("a b", false), ("A-z_0.9:x", true), ("é", false)])
    func customerRefShape(value: String, valid: Bool) {
        #expect(((try? CustomerRef.validate(value)) != nil) == valid)
    }
}
