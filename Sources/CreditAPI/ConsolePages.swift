import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes

/// HTML for the console (README "Console"): every value from the database goes through
/// `escape`, and no page carries a script.
enum HTML {
    /// Every page's answer, the console's and the customer's: HTML under a policy that allows
    /// nothing but this origin's own files (no inline script can run), no frames, forms only to
    /// here; never cached; no Referer sent on (a customer page's address holds its token).
    static func response(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var response = Response(status: status, body: Array(text.utf8))
        response.headerFields[.contentType] = "text/html; charset=utf-8"
        response.headerFields[.contentSecurityPolicy] = "default-src 'self'; frame-ancestors 'none'; form-action 'self'"
        response.headerFields[.xContentTypeOptions] = "nosniff"
        response.headerFields[.cacheControl] = "no-store"
        response.headerFields[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return response
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static func yuan(_ fen: Int) -> String {
        let sign = fen < 0 ? "-" : ""
        let value = abs(fen)
        return "\(sign)\(value / 100).\(String(format: "%02d", value % 100))"
    }

    /// A bar per characteristic: the points it earned against the most it could.
    static func explanationBars(_ rows: [Decision.ExplanationRow]) -> String {
        let rowHeight = 22
        let width = 420
        let label = 170
        var svg = #"<svg class="bars" viewBox="0 0 \#(width) \#(rows.count * rowHeight + 4)" role="img" aria-label="explanation">"#
        for (index, row) in rows.enumerated() {
            let y = index * rowHeight + 2
            let full = width - label - 60
            let share = row.maxPoints > 0 ? Double(row.points) / Double(row.maxPoints) : 0
            svg += #"<text x="0" y="\#(y + 14)" font-size="12">\#(escape(row.characteristic))</text>"#
            svg += #"<rect x="\#(label)" y="\#(y + 3)" width="\#(full)" height="14" fill="rgb(228,232,239)"/>"#
            svg += #"<rect x="\#(label)" y="\#(y + 3)" width="\#(Int(Double(full) * share))" height="14" fill="rgb(31,95,191)"/>"#
            svg += #"<text x="\#(label + full + 6)" y="\#(y + 14)" font-size="12">\#(row.points)/\#(row.maxPoints)</text>"#
        }
        return svg + "</svg>"
    }

    /// PSI per score band: a bar per band, its contribution to the index.
    static func stabilityChart(_ report: StabilityReport) -> String {
        let bands = report.bands
        let width = 480
        let height = 160
        let most = max(bands.map(\.contribution).max() ?? 0, 0.01)
        let step = bands.isEmpty ? width : width / bands.count
        var svg = #"<svg class="chart" viewBox="0 0 \#(width) \#(height + 30)" role="img" aria-label="PSI per band">"#
        for (index, band) in bands.enumerated() {
            let barHeight = Int(Double(height) * band.contribution / most)
            let x = index * step + 4
            svg += #"<rect x="\#(x)" y="\#(height - barHeight)" width="\#(step - 8)" height="\#(barHeight)" fill="rgb(31,95,191)"/>"#
            svg += #"<text x="\#(x)" y="\#(height + 14)" font-size="10">\#(escape(band.label))</text>"#
            svg += #"<text x="\#(x)" y="\#(height + 26)" font-size="10">\#(String(format: "%.4f", band.contribution))</text>"#
        }
        return svg + "</svg>"
    }
}

/// Words in the reader's language, `<directory>/<locale>.json`: the console's (`config/console`) and
/// the customer's own pages' (`config/customer`).
struct ConsoleTexts: Sendable {
    let byLocale: [NoticeLocale: [String: String]]

    static func load(directory: String) throws -> ConsoleTexts {
        var byLocale: [NoticeLocale: [String: String]] = [:]
        for locale in NoticeLocale.allCases {
            let file = directory + "/\(locale.rawValue).json"
            let data = try ConfigFile.read(file)
            guard let words = try? JSONDecoder().decode([String: String].self, from: data) else {
                throw ScorecardError("\(file) is not {word: text}")
            }
            byLocale[locale] = words
        }
        let keys = byLocale.values.map { Set($0.keys) }
        guard Set(keys).count == 1 else { throw ScorecardError("\(directory): the locales' files name different words") }
        return ConsoleTexts(byLocale: byLocale)
    }

    func callAsFunction(_ key: String, _ locale: NoticeLocale) -> String {
        HTML.escape(raw(key, locale))
    }

    /// The words unescaped, for a value put into other words (which escape it then).
    func raw(_ key: String, _ locale: NoticeLocale) -> String { byLocale[locale]?[key] ?? key }
}
