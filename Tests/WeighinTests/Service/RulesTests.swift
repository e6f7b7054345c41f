import Foundation
import Primitives
import Testing

@testable import WeighinService

/// The contract's field rules, checked directly (the route tests check them again through HTTP).
@Suite("Service: field rules")
struct RulesTests {
    func failures(_ check: (inout Validator) -> Void) -> [String] {
        var v = Validator()
        check(&v)
        return v.errors.map(\.field)
    }

    @Test(arguments: [
        ("0.01", "kg", true), ("1000", "kg", true), ("1000.01", "kg", false), ("2204.62", "lb", true),
        ("2204.63", "lb", false), ("0", "kg", false), ("-1", "lb", false), ("70.12", "kg", true),
        ("70.123", "kg", false), ("70.100", "kg", true),
    ])
    func weights(_ text: String, _ unit: String, _ valid: Bool) {
        let weight = Decimal(exactText: text.utf8)!
        #expect(failures { EntryRules.weight(weight, unit: WeightUnit(rawValue: unit)!, &$0) }.isEmpty == valid, "\(text) \(unit)")
    }

    @Test func recordedOnRunsFrom1900ToTomorrow() {
        let today = CalendarDate.today()
        for (day, valid) in [
            (EntryRules.earliestDay, true), (EntryRules.earliestDay.adding(days: -1), false),
            (today.adding(days: 1), true), (today.adding(days: 2), false),
        ] {
            #expect(failures { EntryRules.recordedOn(day, &$0) }.isEmpty == valid, "\(day)")
        }
    }

    @Test(arguments: [("kg", WeightUnit.kg), ("lb", .lb), ("lbs", .lb)])
    func unitsAsSent(_ text: String, _ unit: WeightUnit) {
        var v = Validator()
        #expect(EntryRules.unit(text, &v) == unit && v.errors.isEmpty)
    }

    @Test(arguments: ["KG", "Lb", "", "stone", "kg "])
    func otherUnitsAreRefused(_ text: String) {
        var v = Validator()
        #expect(EntryRules.unit(text, &v, field: "unit") == nil)
        #expect(v.errors.map(\.field) == ["unit"])
    }

    @Test(arguments: [("2024-02-29", true), ("2023-02-29", false), ("2026-02-30", false), ("0000-01-01", false),
                      ("2026-1-01", false), ("2026-01-01T00:00:00Z", false)])
    func dates(_ text: String, _ valid: Bool) {
        var v = Validator()
        #expect((EntryRules.date(text, &v, field: "from") != nil) == valid, "\(text)")
        #expect(v.errors.isEmpty == valid)
    }

    @Test func aRangeMustNotEndBeforeItStarts() {
        let day = CalendarDate(year: 2026, month: 3, day: 1)!
        #expect(failures { _ = EntryRules.range(from: day, to: day, &$0) }.isEmpty)
        #expect(failures { _ = EntryRules.range(from: day.adding(days: 1), to: day, &$0) } == ["from"])
        #expect(failures { _ = EntryRules.range(from: nil, to: day, &$0) }.isEmpty)
    }

    @Test func notesCountCodePoints() {
        #expect(failures { EntryRules.note(String(repeating: "😀", count: 500), &$0) }.isEmpty)
        #expect(failures { EntryRules.note(String(repeating: "a", count: 501), &$0) } == ["note"])
        #expect(failures { EntryRules.note(nil, &$0) }.isEmpty)
    }

    @Test func emailsAreTrimmedLowerCasedAndNeedOneAtWithTextOnBothSides() {
        var v = Validator()
        #expect(AccountRules.email("  Ada@Example.COM\n", &v) == "ada@example.com" && v.errors.isEmpty)
        for bad in ["a@b@c", "@b", "a@", "ab", "a\u{7}@b", "a@" + String(repeating: "b", count: 253)] {
            #expect(failures { _ = AccountRules.email(bad, &$0) } == ["email"], "\(bad)")
        }
        #expect(failures { _ = AccountRules.email("a@" + String(repeating: "b", count: 252), &$0) }.isEmpty, "254")
        #expect(failures { _ = AccountRules.email("a@\u{301}b", &$0) }.isEmpty, "an @ with a combining mark is one @")
    }

    @Test func namesAreTrimmedAndOneTo255CodePoints() {
        var v = Validator()
        #expect(AccountRules.name("  Ada ", &v) == "Ada" && v.errors.isEmpty)
        #expect(failures { _ = AccountRules.name("   ", &$0) } == ["name"])
        #expect(failures { _ = AccountRules.name(String(repeating: "é", count: 255), &$0) }.isEmpty)
        #expect(failures { _ = AccountRules.name(String(repeating: "é", count: 256), &$0) } == ["name"])
    }

    @Test func passwordsAre8To128CodePoints() {
        #expect(failures { AccountRules.password(String(repeating: "p", count: 7), &$0) } == ["password"])
        #expect(failures { AccountRules.password(String(repeating: "😀", count: 8), &$0) }.isEmpty)
        #expect(failures { AccountRules.password(String(repeating: "p", count: 128), &$0) }.isEmpty)
        #expect(failures { AccountRules.password(String(repeating: "p", count: 129), &$0, field: "new_password") }
            == ["new_password"])
    }

    @Test func aMissingValueIsRequiredUnlessItAlreadyFailedToDecode() throws {
        var v = Validator([FieldError("weight", "must be a number")])
        #expect(v.require(Decimal?.none, "weight") == nil)
        #expect(v.require(CalendarDate?.none, "recorded_on") == nil)
        #expect(v.require(Optional("x"), "note") == "x")
        #expect(v.errors == [FieldError("weight", "must be a number"), FieldError("recorded_on", "is required")])
        #expect(throws: ServiceError.validation(v.errors)) { try v.check() }
    }
}
