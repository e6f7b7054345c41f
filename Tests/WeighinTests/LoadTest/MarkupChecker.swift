/// An XML-ish check of a page: every element is closed in order (or self-closed), attributes are quoted,
/// and every `&` in text or attributes starts one of the references the HTML report uses.
struct MarkupChecker {
    /// One start or self-closing tag.
    struct Tag {
        var name: String
        /// Attribute names, lowercased.
        var attributes: [String: String]
    }

    /// Every start tag in document order.
    private(set) var tags: [Tag] = []

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    init(_ html: String) throws {
        var rest = Substring(html)
        if rest.hasPrefix("<!DOCTYPE html>") { rest = rest.dropFirst("<!DOCTYPE html>".count) }
        var open: [String] = []
        while let start = rest.firstIndex(of: "<") {
            try Self.checkReferences(rest[..<start])
            guard let end = rest[start...].firstIndex(of: ">") else { throw Malformed(description: "unclosed <") }
            let inside = rest[rest.index(after: start)..<end]
            rest = rest[rest.index(after: end)...]
            if inside.hasPrefix("/") {
                let name = String(inside.dropFirst())
                guard open.popLast() == name else { throw Malformed(description: "</\(name)> closes \(open.last ?? "nothing")") }
                continue
            }
            let selfClosing = inside.hasSuffix("/")
            let tag = try Self.parseTag(selfClosing ? inside.dropLast() : inside)
            tags.append(tag)
            if !selfClosing { open.append(tag.name) }
        }
        try Self.checkReferences(rest)
        guard open.isEmpty else { throw Malformed(description: "unclosed elements \(open)") }
    }

    private static func parseTag(_ text: Substring) throws -> Tag {
        let name = String(text.prefix { !$0.isWhitespace })
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber }) else { throw Malformed(description: "bad tag <\(text)>") }
        var rest = text.dropFirst(name.count)
        var attributes: [String: String] = [:]
        while true {
            rest = rest.drop { $0.isWhitespace }
            if rest.isEmpty { break }
            let key = rest.prefix { $0 != "=" && !$0.isWhitespace }
            rest = rest.dropFirst(key.count)
            guard rest.hasPrefix("=\"") else { throw Malformed(description: "unquoted attribute \(key) in <\(text)>") }
            rest = rest.dropFirst(2)
            guard let close = rest.firstIndex(of: "\"") else { throw Malformed(description: "open quote in <\(text)>") }
            let value = rest[..<close]
            guard !value.contains("<") else { throw Malformed(description: "< in attribute of <\(text)>") }
            try checkReferences(value)
            attributes[key.lowercased()] = String(value)
            rest = rest[rest.index(after: close)...]
        }
        return Tag(name: name.lowercased(), attributes: attributes)
    }

    private static func checkReferences(_ text: Substring) throws {
        var rest = text
        while let ampersand = rest.firstIndex(of: "&") {
            let tail = rest[ampersand...]
            let known = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
            guard let reference = known.first(where: { tail.hasPrefix($0) }) else {
                throw Malformed(description: "bare & before \(tail.prefix(12))")
            }
            rest = tail.dropFirst(reference.count)
        }
        guard !text.contains(">") else { throw Malformed(description: "raw > in text \(text.prefix(40))") }
    }
}
