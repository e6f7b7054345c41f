/// Strict RFC 4180 CSV reader over a whole UTF-8 buffer.
///
/// - Fields are separated by `,`; records end with CRLF or LF, and the last record may lack a line break.
///   A CR not followed by LF outside quotes is an error.
/// - Quoted fields may contain `,`, CR, LF and `""` (one literal quote); nothing may follow the closing quote but
///   a separator or line break, and a quote inside an unquoted field is an error. Spaces are kept as data.
/// - A leading UTF-8 byte order mark is skipped, since spreadsheet exports often add one.
/// - An empty line in the middle is a record with one empty field; empty lines at the very end are ignored.
/// - Records may have different field counts; checking them against a header is left to the caller.
public struct CSVReader: Sendable {
    /// Reads all records; each record is its fields in order.
    public static func parse(_ bytes: some Sequence<UInt8>, limits: CSVLimits) throws(CSVError) -> [[String]] {
        var records: [[String]] = []
        do {
            try forEachRecord(bytes, limits: limits) { (record: [String]) throws(Never) in records.append(record) }
        } catch {
            switch error {
            case .csv(let error): throw error
            case .handler(let never): switch never {}
            }
        }
        return records
    }

    /// Hands each record to `body` as soon as it is read, so no list of every record is ever held (an import of
    /// 100,000 rows keeps one record at a time). An error of `body` stops the reading and is thrown as it is.
    public static func forEachRecord<Failure: Error>(
        _ bytes: some Sequence<UInt8>, limits: CSVLimits, _ body: ([String]) throws(Failure) -> Void
    ) throws(CSVFailure<Failure>) {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(CSVFailure<Failure>) in try read(buffer: buffer, limits: limits, body) }
        }
        if let contiguous {
            return try contiguous.get()
        }
        try Array(bytes).withUnsafeBufferPointer { buffer in
            Result { () throws(CSVFailure<Failure>) in try read(buffer: buffer, limits: limits, body) }
        }.get()
    }

    private static func read<Failure: Error>(
        buffer: UnsafeBufferPointer<UInt8>, limits: CSVLimits, _ body: ([String]) throws(Failure) -> Void
    ) throws(CSVFailure<Failure>) {
        var state = CSVReaderState(bytes: buffer, limits: limits)
        try state.readRecords(body)
    }
}

/// Why reading records stopped: the CSV itself, or the caller's handling of a record.
public enum CSVFailure<Failure: Error>: Error {
    case csv(CSVError)
    case handler(Failure)
}

/// The reader's position and output while scanning one buffer.
private struct CSVReaderState {
    let bytes: UnsafeBufferPointer<UInt8>
    let limits: CSVLimits
    var index = 0
    /// 1-based number of the record being read.
    var record = 1
    /// Records handed out so far.
    var count = 0
    /// Empty lines seen since the last non-empty record; kept only if another record follows.
    var pendingEmptyLines = 0
    /// Reused buffer for quoted fields containing `""`.
    var scratch: [UInt8] = []

    init(bytes: UnsafeBufferPointer<UInt8>, limits: CSVLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    mutating func readRecords<Failure: Error>(_ body: ([String]) throws(Failure) -> Void) throws(CSVFailure<Failure>) {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            index = 3
        }
        do {
            while index < bytes.count {
                if let length = lineBreakLength(at: index) {
                    index += length
                    pendingEmptyLines += 1
                    record += 1
                    continue
                }
                let fields = try readRecord()
                for _ in 0..<pendingEmptyLines {
                    try hand([""], to: body)
                }
                pendingEmptyLines = 0
                try hand(fields, to: body)
                record += 1
            }
        } catch let error as CSVError {
            throw .csv(error)
        } catch let error as Failure {
            throw .handler(error)
        } catch {
            fatalError("unreachable: \(error)")
        }
    }

    private mutating func hand<Failure: Error>(_ fields: [String], to body: ([String]) throws(Failure) -> Void) throws {
        guard count < limits.maxRecords else {
            throw CSVError(kind: .tooManyRecords, reason: "more than \(limits.maxRecords) records", record: count + 1)
        }
        count += 1
        try body(fields)
    }

    /// Reads fields up to and including the record's line break (or the end of input).
    private mutating func readRecord() throws(CSVError) -> [String] {
        var fields: [String] = []
        while true {
            fields.append(try readField())
            guard index < bytes.count else { return fields }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "\n"):
                index += 1
                return fields
            case UInt8(ascii: "\r"):
                guard let length = lineBreakLength(at: index) else {
                    throw malformed("carriage return not followed by line feed")
                }
                index += length
                return fields
            default:
                // Unquoted fields stop only at the cases above, so this follows a closing quote.
                throw malformed("unexpected character after the closing quote of field \(fields.count)")
            }
        }
    }

    private mutating func readField() throws(CSVError) -> String {
        index < bytes.count && bytes[index] == UInt8(ascii: "\"") ? try readQuotedField() : try readUnquotedField()
    }

    private mutating func readUnquotedField() throws(CSVError) -> String {
        let start = index
        scan: while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: ","), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                break scan
            case UInt8(ascii: "\""):
                throw malformed("quote inside an unquoted field (quote the whole field and double the quote)")
            default:
                try skipCharacter()
            }
        }
        try checkFieldLength(index - start)
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    /// Reads a quoted field and leaves `index` just after its closing quote.
    private mutating func readQuotedField() throws(CSVError) -> String {
        index += 1
        let start = index
        var runStart = index
        var hasEscapes = false
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "\"") else {
                try skipCharacter()
                continue
            }
            if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\"") {
                if !hasEscapes {
                    scratch.removeAll(keepingCapacity: true)
                    hasEscapes = true
                }
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...index]))
                index += 2
                runStart = index
                continue
            }
            let field: String
            if hasEscapes {
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                try checkFieldLength(scratch.count)
                field = String(decoding: scratch, as: UTF8.self)
            } else {
                try checkFieldLength(index - start)
                field = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            }
            index += 1
            return field
        }
        throw malformed("unterminated quoted field")
    }

    /// Steps over one character, validating UTF-8.
    @inline(__always)
    private mutating func skipCharacter() throws(CSVError) {
        if bytes[index] < 0x80 {
            index += 1
        } else if let length = UTF8Validation.multiByteSequenceLength(in: bytes, at: index) {
            index += length
        } else {
            throw malformed("invalid UTF-8")
        }
    }

    /// Length of the LF or CRLF at `position`, or nil when there is none.
    private func lineBreakLength(at position: Int) -> Int? {
        switch bytes[position] {
        case UInt8(ascii: "\n"): 1
        case UInt8(ascii: "\r") where position + 1 < bytes.count && bytes[position + 1] == UInt8(ascii: "\n"): 2
        default: nil
        }
    }

    private func checkFieldLength(_ length: Int) throws(CSVError) {
        guard length <= limits.maxFieldBytes else {
            throw CSVError(kind: .fieldTooLong, reason: "field longer than \(limits.maxFieldBytes) bytes", record: record)
        }
    }

    private func malformed(_ reason: String) -> CSVError {
        CSVError(kind: .malformed, reason: reason, record: record)
    }
}
