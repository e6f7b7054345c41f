/// One statement of a migration file: its text (without the closing semicolon) and the line it starts on.
public struct SQLStatement: Sendable, Equatable {
    public let text: String
    /// The file's line (counted from 1) of the statement's first character that is not space or comment.
    public let line: Int

    public init(text: String, line: Int) {
        self.text = text
        self.line = line
    }
}

/// Splits a migration file into its statements, as `psql` does: at each semicolon that is not inside a string, a
/// quoted identifier, a dollar-quoted body, a comment, or a `BEGIN ATOMIC ... END` function body.
///
/// The migrator sends the statements one at a time, so a sharded database that refuses several statements in one
/// query string (Citus, for index statements on a distributed table) takes every file, and a failure names its line.
public enum SQLStatements {
    /// The statements of `script` in order; pieces holding only spaces and comments are left out. Text after an
    /// unterminated quote or comment stays in the last statement, for the server to report.
    public static func split(_ script: String) -> [SQLStatement] {
        var scanner = Scanner(Array(script.utf8))
        return scanner.statements()
    }

    /// A single pass over the file's UTF-8 bytes; every delimiter is ASCII, so a byte of a multi-byte character never
    /// matches one.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        var line = 1
        /// Where the current statement's first significant byte is, and its line.
        var start: Int?
        var startLine = 0
        /// Words seen in the current statement, and open `BEGIN`/`CASE` blocks (psql's rule: a `BEGIN` that is not the
        /// statement's first word, or a `CASE`, opens one; `END` closes one).
        var words = 0
        var blocks = 0
        var found: [SQLStatement] = []

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
        }

        mutating func statements() -> [SQLStatement] {
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "-") where peek(1) == UInt8(ascii: "-"):
                    skipLineComment()
                case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "*"):
                    skipBlockComment()
                case UInt8(ascii: ";") where blocks == 0:
                    finish(at: index)
                    index += 1
                case UInt8(ascii: "'"):
                    begin()
                    skipString(backslashEscapes: isEscapeStringPrefix())
                case UInt8(ascii: "\""):
                    begin()
                    skipQuoted(UInt8(ascii: "\""), backslashEscapes: false)
                case UInt8(ascii: "$") where !isIdentifierByte(before: index):
                    begin()
                    if let tag = dollarTag() { skipDollarBody(tag) } else { index += 1 }
                case _ where isWordStart(byte):
                    begin()
                    word()
                default:
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    if !isSpace(byte) { begin() }
                    index += 1
                }
            }
            finish(at: bytes.count)
            return found
        }

        func peek(_ offset: Int) -> UInt8? {
            index + offset < bytes.count ? bytes[index + offset] : nil
        }

        func isSpace(_ byte: UInt8) -> Bool {
            byte == 0x20 || (0x09...0x0D).contains(byte)
        }

        func isWordStart(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || byte == UInt8(ascii: "_") || byte >= 0x80
        }

        func isIdentifierByte(_ byte: UInt8) -> Bool {
            isWordStart(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "$")
        }

        func isIdentifierByte(before position: Int) -> Bool {
            position > 0 && isIdentifierByte(bytes[position - 1])
        }

        /// Whether the quote at `index` opens an `E'...'` string (backslash escapes): an `E` that is a word of its own.
        func isEscapeStringPrefix() -> Bool {
            guard index > 0, bytes[index - 1] | 0x20 == UInt8(ascii: "e") else { return false }
            return !isIdentifierByte(before: index - 1)
        }

        /// Marks the start of a statement at `index` if none has started.
        mutating func begin() {
            if start == nil {
                start = index
                startLine = line
            }
        }

        mutating func finish(at end: Int) {
            if let start {
                let text = String(decoding: bytes[start..<end], as: UTF8.self)
                found.append(SQLStatement(text: text.trimmingTrailingSpace(), line: startLine))
            }
            start = nil
            words = 0
            blocks = 0
        }

        mutating func skipLineComment() {
            while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
        }

        /// `/* ... */`, nested as PostgreSQL nests them.
        mutating func skipBlockComment() {
            var depth = 0
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "*") {
                    depth += 1
                    index += 2
                } else if bytes[index] == UInt8(ascii: "*"), peek(1) == UInt8(ascii: "/") {
                    depth -= 1
                    index += 2
                    if depth == 0 { return }
                } else {
                    if bytes[index] == UInt8(ascii: "\n") { line += 1 }
                    index += 1
                }
            }
        }

        mutating func skipString(backslashEscapes: Bool) {
            skipQuoted(UInt8(ascii: "'"), backslashEscapes: backslashEscapes)
        }

        /// From the opening `quote` past its closing one; a doubled quote is one character of the text.
        mutating func skipQuoted(_ quote: UInt8, backslashEscapes: Bool) {
            index += 1
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\n") { line += 1 }
                if backslashEscapes, byte == UInt8(ascii: "\\") {
                    if peek(1) == UInt8(ascii: "\n") { line += 1 }
                    index += 2
                } else if byte == quote {
                    index += 1
                    guard index < bytes.count, bytes[index] == quote else { return }
                    index += 1
                } else {
                    index += 1
                }
            }
        }

        /// The tag of a dollar quote opening at `index` (`$$` or `$name$`), or nil when this `$` opens none (`$1`).
        func dollarTag() -> [UInt8]? {
            var end = index + 1
            while end < bytes.count, bytes[end] != UInt8(ascii: "$") {
                let byte = bytes[end]
                let allowed = end == index + 1 ? isWordStart(byte) : isIdentifierByte(byte)
                guard allowed, byte != UInt8(ascii: "$") else { return nil }
                end += 1
            }
            guard end < bytes.count else { return nil }
            return Array(bytes[index...end])
        }

        mutating func skipDollarBody(_ tag: [UInt8]) {
            index += tag.count
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "$"), bytes[index...].starts(with: tag) {
                    index += tag.count
                    return
                }
                if bytes[index] == UInt8(ascii: "\n") { line += 1 }
                index += 1
            }
        }

        /// A keyword or identifier; `BEGIN` (not first) and `CASE` open a block that only `END` closes.
        mutating func word() {
            let from = index
            while index < bytes.count, isIdentifierByte(bytes[index]) { index += 1 }
            let text = String(decoding: bytes[from..<index], as: UTF8.self).lowercased()
            words += 1
            if (text == "begin" && words > 1) || text == "case" {
                blocks += 1
            } else if text == "end", blocks > 0 {
                blocks -= 1
            }
        }
    }
}

extension String {
    fileprivate func trimmingTrailingSpace() -> String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}
