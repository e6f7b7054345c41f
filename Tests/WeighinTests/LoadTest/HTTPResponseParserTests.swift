import NIOCore
import Testing

@testable import LoadTest

@Suite("HTTP response parser")
struct HTTPResponseParserTests {
    /// Feeds `text` to a parser in pieces of `pieceSize` bytes and returns every response it completes.
    private func parseAll(_ text: String, pieceSize: Int = .max, keepsBodies: Bool = true, closeAtEnd: Bool = false) throws -> [ParsedResponse] {
        var parser = HTTPResponseParser(keepsBodies: keepsBodies)
        var responses: [ParsedResponse] = []
        var pending = ByteBuffer()
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = Swift.min(bytes.count, offset + Swift.max(1, Swift.min(pieceSize, bytes.count)))
            pending.writeBytes(bytes[offset..<end])
            offset = end
            while let response = try parser.parse(&pending) {
                responses.append(response)
            }
        }
        if closeAtEnd, let response = try parser.connectionClosed() {
            responses.append(response)
        }
        return responses
    }

    private func body(_ response: ParsedResponse) -> String {
        String(buffer: response.body ?? ByteBuffer())
    }

    @Test("Content-Length bodies, several responses back to back on a keep-alive connection")
    func contentLength() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"
            + "HTTP/1.1 201 Created\r\ncontent-length: 2\r\nLocation: /v1/entries/1\r\n\r\n{}"
            + "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"
        for pieceSize in [Int.max, 1, 7] {
            let responses = try parseAll(text, pieceSize: pieceSize)
            #expect(responses.map(\.status) == [200, 201, 503])
            #expect(responses.map(body) == ["{\"ok\":true}", "{}", ""])
            #expect(responses.allSatisfy { $0.keepAlive })
        }
    }

    @Test("Chunked bodies with extensions and trailers, whole and split")
    func chunked() throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n1A\r\n abcdefghijklmnopqrstuvwxy\r\n0\r\nX-Trailer: 1\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n"
        for pieceSize in [Int.max, 1, 3, 16] {
            let responses = try parseAll(text, pieceSize: pieceSize)
            #expect(responses.map(\.status) == [200, 200])
            #expect(responses.map(body) == ["hello abcdefghijklmnopqrstuvwxy", ""])
        }
    }

    @Test("Bodies are skipped, not kept, when the parser is not asked for them")
    func skipsBodies() throws {
        let responses = try parseAll(
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            pieceSize: 2, keepsBodies: false
        )
        #expect(responses.count == 2)
        #expect(responses.allSatisfy { $0.body == nil })
    }

    @Test("Connection: close, HTTP/1.0 and bodies framed by the end of the connection")
    func keepAlive() throws {
        #expect(try parseAll("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").map(\.keepAlive) == [false])
        #expect(try parseAll("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").map(\.keepAlive) == [false])
        #expect(try parseAll("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n").map(\.keepAlive) == [true])
        let untilClose = try parseAll("HTTP/1.1 200 OK\r\n\r\nthe whole rest", pieceSize: 4, closeAtEnd: true)
        #expect(untilClose.map(\.status) == [200])
        #expect(untilClose.map(body) == ["the whole rest"])
        #expect(untilClose.map(\.keepAlive) == [false])
    }

    @Test("Responses without a body: 204, 304, and 1xx that are skipped")
    func noBody() throws {
        let responses = try parseAll(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        )
        #expect(responses.map(\.status) == [204, 304, 200])
    }

    @Test("A partial response waits for more bytes; a closed connection mid-response is an error")
    func truncated() throws {
        var parser = HTTPResponseParser(keepsBodies: false)
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        #expect(try parser.parse(&buffer) == nil)
        #expect(buffer.readableBytes == 0)
        #expect(throws: HTTPParseError.truncated) { try parser.connectionClosed() }

        var idle = HTTPResponseParser(keepsBodies: false)
        #expect(try idle.connectionClosed() == nil)
    }

    @Test(
        "Malformed responses are rejected",
        arguments: [
            ("HTTX/1.1 200 OK\r\n\r\n", HTTPParseError.invalidStatusLine),
            ("HTTP/1.1 2x0 OK\r\n\r\n", .invalidStatusLine),
            ("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", .invalidHeader),
            ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", .invalidContentLength),
            ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", .invalidContentLength),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .invalidChunk),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", .invalidChunk),
        ]
    )
    func malformed(text: String, error: HTTPParseError) {
        #expect(throws: error) { try parseAll(text) }
    }

    @Test("A head larger than 64 KiB is rejected instead of buffered forever")
    func headTooLarge() {
        let text = "HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "a", count: 70_000)
        #expect(throws: HTTPParseError.headTooLarge) { try parseAll(text) }
    }
}
