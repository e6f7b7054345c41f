import NIOCore

// Over 300 lines on purpose: one incremental parser (status line, headers, three kinds of body framing) whose
// states are read best together.

/// An incremental HTTP/1.1 response parser: status line, headers, and bodies framed by
/// `Content-Length`, chunked transfer coding, or the end of the connection.
///
/// It is written for speed rather than completeness: it reads only the headers that frame the
/// message (`Content-Length`, `Transfer-Encoding`, `Connection`) and `Retry-After` (whole seconds), and skips
/// bodies it is not asked to keep.
struct HTTPResponseParser: Sendable {
    private enum State: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case bodyUntilClose
    }

    private static let maximumHeadSize = 64 * 1024

    private let keepsBodies: Bool
    private var state = State.head
    private var status = 0
    private var keepAlive = true
    private var retryAfter: Int?
    private var body: ByteBuffer?

    /// Creates a parser; `keepsBodies` decides whether responses carry their bodies.
    ///
    /// The load loop passes `false` so that bodies are skipped without copying.
    init(keepsBodies: Bool) {
        self.keepsBodies = keepsBodies
    }

    /// Parses the next complete response from the front of `buffer`, consuming its bytes.
    ///
    /// Returns `nil` when `buffer` holds only part of a response: the consumed part is remembered,
    /// and the caller keeps the unread bytes and calls again when more arrive.
    /// Informational (1xx) responses are skipped.
    mutating func parse(_ buffer: inout ByteBuffer) throws(HTTPParseError) -> ParsedResponse? {
        while true {
            switch state {
            case .head:
                guard let headLength = try Self.headLength(in: buffer) else { return nil }
                try parseHead(buffer, length: headLength)
                buffer.moveReaderIndex(forwardBy: headLength)
                if status < 200 {
                    state = .head
                    continue
                }
            case .fixedBody(let remaining):
                let taken = Swift.min(remaining, buffer.readableBytes)
                take(taken, from: &buffer)
                if taken < remaining {
                    state = .fixedBody(remaining: remaining - taken)
                    return nil
                }
                return finish()
            case .chunkSize:
                guard let lineEnd = Self.lineEnd(in: buffer) else {
                    if buffer.readableBytes > 1024 { throw .invalidChunk }
                    return nil
                }
                let size = buffer.withUnsafeReadableBytes { bytes in
                    Self.chunkSize(UnsafeRawBufferPointer(rebasing: bytes[0..<lineEnd]))
                }
                guard let size else { throw .invalidChunk }
                buffer.moveReaderIndex(forwardBy: lineEnd + 2)
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let taken = Swift.min(remaining, buffer.readableBytes)
                take(taken, from: &buffer)
                if taken < remaining {
                    state = .chunkData(remaining: remaining - taken)
                    return nil
                }
                state = .chunkDataEnd
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else { return nil }
                let view = buffer.readableBytesView
                guard view[view.startIndex] == UInt8(ascii: "\r"), view[view.startIndex + 1] == UInt8(ascii: "\n") else {
                    throw .invalidChunk
                }
                buffer.moveReaderIndex(forwardBy: 2)
                state = .chunkSize
            case .trailers:
                guard let lineEnd = Self.lineEnd(in: buffer) else {
                    if buffer.readableBytes > Self.maximumHeadSize { throw .headTooLarge }
                    return nil
                }
                buffer.moveReaderIndex(forwardBy: lineEnd + 2)
                if lineEnd == 0 { return finish() }
            case .bodyUntilClose:
                take(buffer.readableBytes, from: &buffer)
                return nil
            }
        }
    }

    /// Tells the parser that the peer closed the connection.
    ///
    /// Returns the response whose body was framed by the close, throws if a response was cut short,
    /// and returns `nil` when the parser was between responses.
    mutating func connectionClosed() throws(HTTPParseError) -> ParsedResponse? {
        switch state {
        case .head:
            return nil
        case .bodyUntilClose:
            return finish()
        default:
            state = .head
            throw .truncated
        }
    }

    private mutating func take(_ count: Int, from buffer: inout ByteBuffer) {
        guard count > 0 else { return }
        if keepsBodies, let slice = buffer.readSlice(length: count) {
            if body == nil {
                body = slice
            } else {
                var slice = slice
                body!.writeBuffer(&slice)
            }
        } else {
            buffer.moveReaderIndex(forwardBy: count)
        }
    }

    private mutating func finish() -> ParsedResponse {
        let response = ParsedResponse(
            status: status,
            keepAlive: keepAlive,
            body: keepsBodies ? (body ?? ByteBuffer()) : nil,
            retryAfter: retryAfter
        )
        state = .head
        body = nil
        retryAfter = nil
        return response
    }

    /// The length of the head including its closing empty line, or `nil` if it is not complete yet.
    private static func headLength(in buffer: ByteBuffer) throws(HTTPParseError) -> Int? {
        let length: Int? = buffer.withUnsafeReadableBytes { bytes in
            var index = 3
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "\n"), bytes[index - 1] == UInt8(ascii: "\r"),
                    bytes[index - 2] == UInt8(ascii: "\n"), bytes[index - 3] == UInt8(ascii: "\r")
                {
                    return index + 1
                }
                index += 1
            }
            return nil
        }
        guard let length else {
            if buffer.readableBytes > maximumHeadSize { throw .headTooLarge }
            return nil
        }
        if length > maximumHeadSize { throw .headTooLarge }
        return length
    }

    private static func lineEnd(in buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { bytes in
            guard bytes.count >= 2 else { return nil }
            for index in 1..<bytes.count where bytes[index] == UInt8(ascii: "\n") && bytes[index - 1] == UInt8(ascii: "\r") {
                return index - 1
            }
            return nil
        }
    }

    /// Reads the status line and the framing headers of a complete head of `length` bytes.
    private mutating func parseHead(_ buffer: ByteBuffer, length: Int) throws(HTTPParseError) {
        let result: Result<Head, HTTPParseError> =
            buffer.withUnsafeReadableBytes { bytes in
                Result { () throws(HTTPParseError) in
                    try Self.parseHead(UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
                }
            }
        let head = try result.get()
        status = head.status
        keepAlive = head.keepAlive
        retryAfter = head.retryAfter
        body = nil
        switch head.framing {
        case .none:
            state = .fixedBody(remaining: 0)
        case .chunked:
            state = .chunkSize
        case .length(let length):
            state = .fixedBody(remaining: length)
        case .untilClose:
            keepAlive = false
            state = .bodyUntilClose
        }
    }

    private enum Framing {
        case none, chunked, length(Int), untilClose
    }

    /// What a response's head tells.
    private struct Head {
        var status: Int
        var keepAlive: Bool
        var framing: Framing
        var retryAfter: Int?
    }

    private static func parseHead(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> Head {
        // Status line: "HTTP/1.x NNN reason\r\n".
        guard bytes.count >= 12,
            bytes[0] == UInt8(ascii: "H"), bytes[1] == UInt8(ascii: "T"), bytes[2] == UInt8(ascii: "T"),
            bytes[3] == UInt8(ascii: "P"), bytes[4] == UInt8(ascii: "/"), bytes[5] == UInt8(ascii: "1"),
            bytes[6] == UInt8(ascii: "."), isDigit(bytes[7]), bytes[8] == UInt8(ascii: " "),
            isDigit(bytes[9]), isDigit(bytes[10]), isDigit(bytes[11]),
            bytes.count == 12 || bytes[12] == UInt8(ascii: " ") || bytes[12] == UInt8(ascii: "\r")
        else { throw .invalidStatusLine }
        let status = Int(bytes[9] &- 48) * 100 + Int(bytes[10] &- 48) * 10 + Int(bytes[11] &- 48)
        guard status >= 100 else { throw .invalidStatusLine }
        var keepAlive = bytes[7] != UInt8(ascii: "0")
        var contentLength: Int?
        var chunked = false
        var retryAfter: Int?

        var lineStart = 12
        while lineStart < bytes.count, bytes[lineStart] != UInt8(ascii: "\n") { lineStart += 1 }
        lineStart += 1
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            var end = lineEnd
            if end > lineStart, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            defer { lineStart = lineEnd + 1 }
            if end == lineStart { continue }
            var colon = lineStart
            while colon < end, bytes[colon] != UInt8(ascii: ":") { colon += 1 }
            guard colon < end, colon > lineStart else { throw .invalidHeader }
            var valueStart = colon + 1
            while valueStart < end, bytes[valueStart] == UInt8(ascii: " ") || bytes[valueStart] == UInt8(ascii: "\t") {
                valueStart += 1
            }
            var valueEnd = end
            while valueEnd > valueStart, bytes[valueEnd - 1] == UInt8(ascii: " ") || bytes[valueEnd - 1] == UInt8(ascii: "\t") {
                valueEnd -= 1
            }
            let name = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<colon])
            let value = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            switch name.count {
            case 14 where equalsIgnoringCase(name, "content-length"):
                guard let length = decimal(value), contentLength == nil || contentLength == length else {
                    throw .invalidContentLength
                }
                contentLength = length
            case 17 where equalsIgnoringCase(name, "transfer-encoding"):
                chunked = containsIgnoringCase(value, "chunked")
            case 11 where equalsIgnoringCase(name, "retry-after"):
                retryAfter = decimal(value)
            case 10 where equalsIgnoringCase(name, "connection"):
                if containsIgnoringCase(value, "close") {
                    keepAlive = false
                } else if containsIgnoringCase(value, "keep-alive") {
                    keepAlive = true
                }
            default:
                break
            }
        }

        let framing: Framing
        if status < 200 || status == 204 || status == 304 {
            framing = .none
        } else if chunked {
            framing = .chunked
        } else if let contentLength {
            framing = .length(contentLength)
        } else {
            framing = .untilClose
        }
        return Head(status: status, keepAlive: keepAlive, framing: framing, retryAfter: retryAfter)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// The size in a chunk-size line (hexadecimal, optionally followed by extensions), or `nil` if invalid.
    private static func chunkSize(_ line: UnsafeRawBufferPointer) -> Int? {
        var size = 0
        var digits = 0
        for byte in line {
            let value: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A")) + 10
            case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                return digits > 0 ? size : nil
            default:
                return nil
            }
            digits += 1
            guard digits <= 15 else { return nil }
            size = size * 16 + value
        }
        return digits > 0 ? size : nil
    }

    private static func decimal(_ text: UnsafeRawBufferPointer) -> Int? {
        guard !text.isEmpty, text.count <= 18 else { return nil }
        var value = 0
        for byte in text {
            guard isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    private static func equalsIgnoringCase(_ text: UnsafeRawBufferPointer, _ lowercaseName: StaticString) -> Bool {
        guard text.count == lowercaseName.utf8CodeUnitCount else { return false }
        return lowercaseName.withUTF8Buffer { name in
            for index in 0..<name.count where lowercased(text[index]) != name[index] {
                return false
            }
            return true
        }
    }

    private static func containsIgnoringCase(_ text: UnsafeRawBufferPointer, _ lowercaseWord: StaticString) -> Bool {
        lowercaseWord.withUTF8Buffer { word in
            guard text.count >= word.count else { return false }
            outer: for start in 0...(text.count - word.count) {
                for index in 0..<word.count where lowercased(text[start + index]) != word[index] {
                    continue outer
                }
                return true
            }
            return false
        }
    }
}
