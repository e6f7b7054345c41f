/// A statement and its bound parameters, built by string interpolation.
///
/// `"SELECT * FROM users WHERE id = \(id)"` becomes the text `SELECT * FROM users WHERE id = $1` plus one bound
/// value, so values never become SQL text. Trusted SQL text that must be spliced in goes through the explicitly
/// named `unsafeSQL` escape hatch.
public struct SQL: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The statement text with `$n` placeholders.
    public private(set) var text: String
    /// The bound values, `$1` first.
    public private(set) var binds: [PostgresBind]
    /// A short name for logs and errors (e.g. `entries.list`); the text's start is used when nil.
    public var name: String?

    public init(stringLiteral value: String) {
        self.text = value
        self.binds = []
    }

    public init(stringInterpolation: StringInterpolation) {
        self.text = stringInterpolation.text
        self.binds = stringInterpolation.binds
    }

    /// Trusted SQL text used as is, with no parameters: for fixed statements held in variables and migration
    /// files. Never pass text that contains user input.
    public static func unsafeSQL(_ text: String) -> SQL {
        SQL(stringLiteral: text)
    }

    /// `sql` with a name for logs and errors: `SQL("SELECT ... \(id)", name: "users.get")`.
    public init(_ sql: SQL, name: String) {
        self = sql
        self.name = name
    }

    /// The name used in logs and errors: `name`, else the first 60 characters of the text (which holds no values).
    public var label: String {
        if let name { return name }
        let flat = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return flat.count <= 60 ? flat : String(flat.prefix(60)) + "…"
    }

    /// The text only: bound values are never printed.
    public var description: String { text }

    public struct StringInterpolation: StringInterpolationProtocol {
        var text: String
        var binds: [PostgresBind]

        public init(literalCapacity: Int, interpolationCount: Int) {
            text = ""
            text.reserveCapacity(literalCapacity + 3 * interpolationCount)
            binds = []
            binds.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            text += literal
        }

        /// A value: becomes the next `$n` placeholder and a bound parameter (NULL when the value is nil).
        public mutating func appendInterpolation(_ value: some PostgresEncodable) {
            binds.append(PostgresBind(value))
            text += "$\(binds.count)"
        }

        /// An optional value: nil binds a NULL of the wrapped type.
        public mutating func appendInterpolation<Wrapped: PostgresEncodable>(_ value: Wrapped?) {
            binds.append(PostgresBind(value))
            text += "$\(binds.count)"
        }

        /// Trusted SQL text spliced in verbatim; never user input.
        public mutating func appendInterpolation(unsafeSQL raw: String) {
            text += raw
        }

        /// An identifier (table, column or channel name), double-quoted so it can never end the name early.
        public mutating func appendInterpolation(identifier: String) {
            text += "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }

        /// Another statement fragment, its placeholders renumbered after this one's.
        public mutating func appendInterpolation(_ fragment: SQL) {
            guard !fragment.binds.isEmpty else {
                text += fragment.text
                return
            }
            text += Self.renumber(fragment.text, offset: binds.count)
            binds += fragment.binds
        }

        /// Shifts every `$n` placeholder of `text` by `offset`.
        ///
        /// Fragments are built by this same interpolation, so `$` followed by digits only ever is a placeholder.
        static func renumber(_ text: String, offset: Int) -> String {
            var out = ""
            var scalars = text.unicodeScalars.makeIterator()
            var pending: UnicodeScalar? = scalars.next()
            while let c = pending {
                pending = scalars.next()
                guard c == "$", let first = pending, first.isASCII, ("0"..."9").contains(first) else {
                    out.unicodeScalars.append(c)
                    continue
                }
                var digits = ""
                while let d = pending, d.isASCII, ("0"..."9").contains(d) {
                    digits.unicodeScalars.append(d)
                    pending = scalars.next()
                }
                out += "$\(Int(digits)! + offset)"
            }
            return out
        }
    }
}

/// One bound parameter: its type and its encoded bytes (nil for NULL).
public struct PostgresBind: Sendable {
    public let type: PostgresType
    public let bytes: [UInt8]?
    /// Binary parameters (bytea) are sent as raw bytes; all others in PostgreSQL's text format.
    public let isBinary: Bool

    public init(_ value: some PostgresEncodable) {
        type = Swift.type(of: value).postgresType
        bytes = value.postgresBytes
        isBinary = Swift.type(of: value).postgresBinaryFormat
    }
}
