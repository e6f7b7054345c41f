import Foundation
import Primitives
import Testing

@testable import WeighinService

/// A listing cursor reads back only for the user and range it was issued for, and only unaltered.
@Suite("Service: listing cursors")
struct ListingCursorTests {
    let key = (0..<32).map { UInt8($0) }
    let user = UUID()
    let range = DateRange(from: CalendarDate(year: 2026, month: 1, day: 1), to: nil)
    let position = ListingCursor(
        recordedOn: CalendarDate(year: 2026, month: 3, day: 14)!, measuredAtMicros: 1_773_480_000_000_001,
        createdAt: TimestampText.date(microseconds: 1_773_500_000_123_456), id: UUID())

    @Test func readsBackExactlyForItsUserAndRange() {
        let text = position.encoded(key: key, user: user, range: range)
        #expect(text.utf8.allSatisfy(Base64URL.isAlphabet))
        let read = ListingCursor(decoding: text, key: key, user: user, range: range)
        #expect(read == position)
        #expect(read?.createdAtMicros == 1_773_500_000_123_456, "to the microsecond")
        let untimed = ListingCursor(
            recordedOn: position.recordedOn, measuredAtMicros: nil, createdAt: position.createdAt, id: position.id)
        #expect(ListingCursor(decoding: untimed.encoded(key: key, user: user, range: range), key: key, user: user,
                              range: range)?.measuredAtMicros == nil, "an entry without measured_at")
    }

    @Test func anotherUserRangeOrKeyIsRefused() {
        let text = position.encoded(key: key, user: user, range: range)
        #expect(ListingCursor(decoding: text, key: key, user: UUID(), range: range) == nil)
        #expect(ListingCursor(decoding: text, key: key, user: user, range: DateRange()) == nil)
        #expect(ListingCursor(decoding: text, key: key, user: user, range: DateRange(from: range.from, to: range.from)) == nil)
        #expect(ListingCursor(decoding: text, key: key.reversed(), user: user, range: range) == nil)
    }

    @Test func everyAlteredCharacterIsRefused() {
        let text = Array(position.encoded(key: key, user: user, range: range).utf8)
        for index in text.indices {
            var altered = text
            altered[index] = altered[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            let forged = String(decoding: altered, as: UTF8.self)
            #expect(ListingCursor(decoding: forged, key: key, user: user, range: range) == nil, "position \(index)")
        }
        #expect(ListingCursor(decoding: String(decoding: text.dropLast(), as: UTF8.self), key: key, user: user, range: range) == nil)
        #expect(ListingCursor(decoding: "", key: key, user: user, range: range) == nil)
    }
}
