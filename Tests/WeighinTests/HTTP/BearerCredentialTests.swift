import Testing

@testable import WeighinHTTP

@Suite("HTTP: reading the Bearer credential")
struct BearerCredentialTests {
    /// What the header meant when it was split into `Character`s: two space-separated parts, the first `bearer` in
    /// any case.
    func byCharacters(_ header: String) -> String? {
        let parts = header.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1])
    }

    @Test(arguments: [
        "Bearer abc", "bearer abc", "BEARER abc", "BeArEr abc", "  Bearer   abc  ", "Bearer", "Bearer ", "Bearer  ",
        "", " ", "Basic abc", "Bearer abc def", "Bearerabc", "Bearer\tabc", "Bearers abc", "Beare abc", "xBearer abc",
        "Bearer wi_pat_0123456789abcdef", "Bearer é", "Bearer abc\u{1F600}", "Ｂearer abc",
        "Bearer a b", "bEARER    a",
    ])
    func agreesWithTheCharacterSplit(_ header: String) {
        #expect(BearerCredential.token(in: header) == byCharacters(header), "\(header.debugDescription)")
    }

    @Test func aSpaceIsAByteEvenBeforeACombiningMark() {
        // As `Character`s, a space followed by U+0301 is one grapheme and did not split; HTTP splits on the byte.
        // Either way the request is refused: no token starts with a combining mark.
        #expect(BearerCredential.token(in: "Bearer \u{301}abc") == "\u{301}abc")
    }

    @Test func theTokenIsReturnedWhole() {
        #expect(BearerCredential.token(in: "  bearer  tok_123  ") == "tok_123")
        #expect(BearerCredential.token(in: "Bearer abc def") == nil)
    }
}
