import Testing
@testable import WireFormats

@Suite("JSONParser enforces JSONLimits")
struct JSONLimitsTests {
    private func nestedArrays(_ depth: Int) -> String {
        String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
    }

    @Test func defaults() {
        let limits = JSONLimits()
        #expect(limits.maxDepth == 32)
        #expect(limits.maxStringBytes == 1_048_576)
        #expect(limits.maxMembers == 200_000)
    }

    @Test func depth() throws {
        _ = try parseJSON(nestedArrays(32))
        #expect(jsonError(nestedArrays(33))?.kind == .limitExceeded)
        let objects = String(repeating: "{\"a\":", count: 32) + "1" + String(repeating: "}", count: 32)
        _ = try parseJSON(objects)
        #expect(jsonError("[" + objects + "]")?.kind == .limitExceeded)
        #expect(jsonError("[" + String(repeating: "{\"a\":", count: 32) + "{}" + String(repeating: "}", count: 32) + "]")?
            .kind == .limitExceeded)
    }

    @Test func customDepth() throws {
        let zero = JSONLimits(maxDepth: 0)
        #expect(try parseJSON("1", limits: zero) == 1)
        #expect(jsonError("[]", limits: zero)?.kind == .limitExceeded)
        let one = JSONLimits(maxDepth: 1)
        #expect(try parseJSON("[1]", limits: one) == [1])
        #expect(jsonError("[[]]", limits: one)?.kind == .limitExceeded)
        #expect(jsonError("{\"a\":{}}", limits: one)?.kind == .limitExceeded)
    }

    @Test func hostileNestingFailsWithoutRecursion() {
        let error = jsonError(String(repeating: "[", count: 1_000_000))
        #expect(error?.kind == .limitExceeded)
        #expect(error?.offset == 32)
        #expect(jsonError(String(repeating: "[", count: 200_000), limits: JSONLimits(maxDepth: 1_000_000))?.kind == .malformed)
    }

    @Test func stringBytes() throws {
        let limits = JSONLimits(maxStringBytes: 4)
        #expect(try parseJSON("\"abcd\"", limits: limits) == "abcd")
        #expect(jsonError("\"abcde\"", limits: limits)?.kind == .limitExceeded)
        #expect(try parseJSON("\"éé\"", limits: limits) == "éé")  // 4 UTF-8 bytes
        #expect(jsonError("\"ééa\"", limits: limits)?.kind == .limitExceeded)
        // Escaped strings count decoded bytes: six source bytes per \u00e9, two decoded.
        #expect(try parseJSON(#""\u00e9\u00e9""#, limits: limits) == "éé")
        #expect(jsonError(#""\u00e9\u00e9\n""#, limits: limits)?.kind == .limitExceeded)
        #expect(jsonError("{\"abcde\":1}", limits: limits)?.kind == .limitExceeded)
        #expect(try parseJSON("1234", limits: limits) == 1234)
        #expect(jsonError("12345", limits: limits)?.kind == .limitExceeded)
    }

    @Test func members() throws {
        let limits = JSONLimits(maxMembers: 3)
        #expect(try parseJSON("[1,2,3]", limits: limits) == [1, 2, 3])
        #expect(jsonError("[1,2,3,4]", limits: limits)?.kind == .limitExceeded)
        _ = try parseJSON(#"{"a":1,"b":2,"c":3}"#, limits: limits)
        #expect(jsonError(#"{"a":1,"b":2,"c":3,"a":4}"#, limits: limits)?.kind == .limitExceeded)
        // The limit applies per container, not to the whole document.
        #expect(try parseJSON("[[1,2,3],[1,2,3],{\"a\":[1,2,3]}]", limits: limits).arrayValue?.count == 3)
    }

    @Test func malformedWinsOverLaterLimits() {
        #expect(jsonError("[1,2,3,4", limits: JSONLimits(maxMembers: 10))?.kind == .malformed)
        #expect(jsonError("[1,,2,3,4]", limits: JSONLimits(maxMembers: 2))?.kind == .malformed)
    }
}
