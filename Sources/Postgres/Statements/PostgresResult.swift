import CLibPQ

/// Owns one libpq `PGresult` and frees it when the last reference goes.
///
/// A result is immutable once libpq hands it over, so it can be read from any thread. Its values are in binary
/// format: every statement asks for it.
public final class PostgresResult: @unchecked Sendable {
    let raw: OpaquePointer
    /// Column names in order, read once.
    public let columnNames: [String]
    @usableFromInline let columnTypes: [PostgresType]
    /// Whether every column came in binary format, the only one values are decoded from (checked once, so a text
    /// result fails with an error instead of being misread).
    @usableFromInline let isBinary: Bool
    /// Rows returned.
    public let rowCount: Int

    /// Takes ownership of `raw`.
    init(taking raw: OpaquePointer) {
        self.raw = raw
        let columns = Int(PQnfields(raw))
        columnNames = (0..<columns).map { String(cString: PQfname(raw, Int32($0))) }
        columnTypes = (0..<columns).map { PostgresType(rawValue: PQftype(raw, Int32($0))) }
        isBinary = (0..<columns).allSatisfy { PQfformat(raw, Int32($0)) == 1 }
        rowCount = Int(PQntuples(raw))
    }

    deinit {
        PQclear(raw)
    }

    /// Rows affected by INSERT/UPDATE/DELETE/COPY (or returned by SELECT), from the command tag.
    public var affectedRows: Int {
        Int(String(cString: PQcmdTuples(raw))) ?? 0
    }

    @usableFromInline func isNull(row: Int, column: Int) -> Bool {
        PQgetisnull(raw, Int32(row), Int32(column)) != 0
    }

    /// The value's bytes in binary format; valid while `self` lives.
    @usableFromInline func bytes(row: Int, column: Int) -> UnsafeRawBufferPointer {
        let length = Int(PQgetlength(raw, Int32(row), Int32(column)))
        return UnsafeRawBufferPointer(start: PQgetvalue(raw, Int32(row), Int32(column)), count: length)
    }
}

/// The rows of a statement's result.
public struct PostgresRows: RandomAccessCollection, Sendable {
    public let result: PostgresResult

    public init(result: PostgresResult) {
        self.result = result
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { result.rowCount }
    public subscript(position: Int) -> PostgresRow { PostgresRow(result: result, index: position) }

    /// Rows affected by INSERT/UPDATE/DELETE/COPY.
    public var affectedRows: Int { result.affectedRows }
    /// Column names in order.
    public var columnNames: [String] { result.columnNames }
}

/// One row of a result; values are decoded by column name or position.
public struct PostgresRow: Sendable {
    @usableFromInline let result: PostgresResult
    /// The row's position in its result.
    public let index: Int

    /// Decodes the named column (the first one with that name). Unknown columns, NULL into a non-optional type,
    /// another column type and a malformed value all throw an error naming the column.
    public func decode<T: PostgresDecodable>(_: T.Type = T.self, column name: String) throws(PostgresError) -> T {
        guard let column = result.columnNames.firstIndex(of: name) else {
            throw PostgresError(code: .decodingFailed, message: "no column named \(name) in the result")
        }
        return try decode(T.self, at: column)
    }

    /// Decodes the column at `column` (0-based).
    ///
    /// Inlinable so that callers in other modules get a copy specialized to `T`: listing decodes seven columns of
    /// thirty rows per request, and the generic version looked up `T`'s metadata at run time for each.
    @inlinable
    public func decode<T: PostgresDecodable>(_: T.Type = T.self, at column: Int) throws(PostgresError) -> T {
        guard column >= 0, column < result.columnNames.count else { throw failure(T.self, at: column, .missing) }
        let type = result.columnTypes[column]
        guard T.accepts(type), result.isBinary else { throw failure(T.self, at: column, .type) }
        if result.isNull(row: index, column: column) {
            do {
                return try T.decodeNull()
            } catch {
                throw failure(T.self, at: column, .null)
            }
        }
        guard let value = T.decode(binary: result.bytes(row: index, column: column), type: type) else {
            throw failure(T.self, at: column, .malformed)
        }
        return value
    }

    /// What went wrong decoding a column, for ``failure(_:at:_:)``.
    @usableFromInline enum DecodingProblem {
        case missing, type, null, malformed
    }

    /// The error naming the column (kept out of the inlined path).
    @usableFromInline func failure<T>(_: T.Type, at column: Int, _ problem: DecodingProblem) -> PostgresError {
        guard column >= 0, column < result.columnNames.count else {
            return PostgresError(code: .decodingFailed, message: "no column at position \(column) in the result")
        }
        let name = result.columnNames[column]
        let type = result.columnTypes[column]
        let message = switch problem {
        case .type where !result.isBinary: "column \(name) came in text format; values are read in binary format"
        case .missing, .type: "column \(name) is \(type), which cannot be read as \(T.self)"
        case .null: "column \(name) is NULL, read as \(T.self)"
        case .malformed: "column \(name) holds a \(type) value that is not a valid \(T.self)"
        }
        return PostgresError(code: .decodingFailed, message: message, column: name)
    }

    /// Whether the named column is NULL in this row.
    public func isNull(column name: String) -> Bool {
        guard let column = result.columnNames.firstIndex(of: name) else { return true }
        return result.isNull(row: index, column: column)
    }
}
