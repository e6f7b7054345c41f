import Crypto
import HTTPTypes
import Hummingbird
import Primitives
import WeighinService
import WireFormats

/// Strong entity tags of answers (`ETag`) and the conditions requests put on them (`If-None-Match`, `If-Match`).
///
/// A tag is a digest of the answer's bytes, so it changes exactly when the answer would (the display unit included)
/// and the same answer always has the same tag, on every instance, with nothing stored.
enum EntityTag {
    /// The tag of an answer body: `"` + the first 16 bytes of its SHA-256 in base64url + `"`.
    static func of(_ body: [UInt8]) -> String {
        "\"" + Base64URL.encode(Array(SHA256.hash(data: body).prefix(16))) + "\""
    }

    /// The tag of `entry` as an answer in `display` shows it.
    static func of(_ entry: Entry, display: WeightUnit) -> String {
        var writer = JSONWriter()
        writer.entry(entry, display: display)
        return of(writer.bytes)
    }

    /// One member of an `If-Match`/`If-None-Match` list.
    enum Condition: Equatable {
        case any
        case tag(opaque: Substring, weak: Bool)
    }

    /// The members of the request's `name` header lines, nil when it has none; a list that is not one (RFC 9110
    /// §8.8.3's grammar) reads as a single condition that matches nothing.
    static func conditions(_ name: HTTPField.Name, of request: Request) -> [Condition]? {
        let lines = request.headers[values: name]
        guard !lines.isEmpty else { return nil }
        var conditions: [Condition] = []
        for line in lines {
            guard let parsed = parse(Substring(line)) else { return [.tag(opaque: "", weak: true)] }
            conditions += parsed
        }
        return conditions
    }

    /// `*` or a comma-separated list of `"opaque"` / `W/"opaque"` (blank members allowed, as lists are).
    static func parse(_ text: Substring) -> [Condition]? {
        let trimmed = text.trimmingBlanks
        if trimmed == "*" { return [.any] }
        var conditions: [Condition] = []
        var rest = trimmed[...]
        while !rest.isEmpty {
            rest = rest.trimmingBlanks
            if rest.first == "," {
                rest = rest.dropFirst()
                continue
            }
            let weak = rest.hasPrefix("W/")
            if weak { rest = rest.dropFirst(2) }
            guard rest.first == "\"", let close = rest.dropFirst().firstIndex(of: "\"") else { return nil }
            let opaque = rest[rest.index(after: rest.startIndex)..<close]
            // etagc = %x21 / %x23-7E / obs-text: no blanks, controls or quotes inside.
            guard opaque.utf8.allSatisfy({ $0 == 0x21 || $0 >= 0x23 && $0 != 0x7F }) else { return nil }
            conditions.append(.tag(opaque: opaque, weak: weak))
            rest = rest[rest.index(after: close)...].trimmingBlanks
            guard rest.isEmpty || rest.first == "," else { return nil }
        }
        return conditions.isEmpty ? nil : conditions
    }

    /// `If-None-Match`: whether `tag` (strong, quoted) is among the conditions by the weak comparison (a `W/`
    /// prefix does not matter), or the list is `*`.
    static func noneMatchFails(_ conditions: [Condition], tag: String) -> Bool {
        let opaque = tag.dropFirst().dropLast()
        return conditions.contains { condition in
            switch condition {
            case .any: true
            case .tag(let other, _): other == opaque
            }
        }
    }

    /// `If-Match` on an entry as a precondition for the service, which checks it under the write's locks: `*` holds
    /// for any existing entry, tags by the strong comparison (a weak tag never matches) on the entry shown in
    /// `display`. Nil without the header.
    static func precondition(_ request: Request, display: WeightUnit) -> EntryPrecondition? {
        guard let conditions = conditions(.ifMatch, of: request) else { return nil }
        if conditions.contains(.any) { return .exists }
        let strong = Set(conditions.compactMap { condition -> Substring? in
            guard case .tag(let opaque, weak: false) = condition else { return nil }
            return opaque
        })
        return .matches { entry in strong.contains(of(entry, display: display).dropFirst().dropLast()) }
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
    fileprivate var trimmingBlanks: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
