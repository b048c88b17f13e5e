import CreditLine
import CreditStore
import Foundation

/// The repository's notice templates, checked against every reason code its scorecards give, as
/// the service installs them: a store under test writes the notices its writes owe (a store
/// without templates refuses such a write, README "Events and notices").
public func testNoticeComposer(coolingOffDays: Int = 14, declineCoolOffDays: Int = 30) throws -> NoticeComposer {
    let folder = repositoryRoot + "/config"
    var reasonCodes: Set<String> = []
    for version in ["v1", "v2"] {
        let card = try Scorecard(json: Data(contentsOf: URL(fileURLWithPath: "\(folder)/scorecards/\(version).json")),
                                 sha256: "00")
        reasonCodes.formUnion(card.characteristics.map(\.reasonCode))
    }
    var templates: [NoticeLocale: NoticeTemplates] = [:]
    for locale in NoticeLocale.allCases {
        templates[locale] = try NoticeTemplates(
            json: Data(contentsOf: URL(fileURLWithPath: "\(folder)/notices/\(locale.rawValue).json")),
            reasonCodes: reasonCodes.sorted())
    }
    return NoticeComposer(templates: templates, settings: NoticeRules.Settings(
        coolingOffDays: coolingOffDays, declineCoolOffDays: declineCoolOffDays))
}
