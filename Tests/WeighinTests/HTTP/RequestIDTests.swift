import Testing

@testable import WeighinHTTP

@Suite("HTTP: new request ids")
struct RequestIDTests {
    @Test func neverRepeatAndAreHexDigits() {
        let ids = (0..<200_000).map { _ in AccessLog.newRequestID() }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { (1...16).contains($0.utf8.count) && $0.utf8.allSatisfy(Self.isLowercaseHex) })
    }

    @Test func concurrentCallersGetDistinctIDs() async {
        let batches = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 { group.addTask { (0..<20_000).map { _ in AccessLog.newRequestID() } } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let all = batches.flatMap { $0 }
        #expect(Set(all).count == 160_000)
    }

    @Test func spreadOverTheirRange() {
        // Consecutive counts must not give neighbouring ids: the first hex digit of 16,000 ids takes all 16 values
        // in roughly equal shares (a counter alone would keep one).
        var counts = [Int](repeating: 0, count: 16)
        for _ in 0..<16_000 {
            let id = AccessLog.newRequestID()
            let padded = String(repeating: "0", count: 16 - id.utf8.count) + id
            counts[Int(String(padded.prefix(1)), radix: 16)!] += 1
        }
        #expect(counts.allSatisfy { (700...1_300).contains($0) }, "\(counts)")
    }

    static func isLowercaseHex(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte)
    }
}
