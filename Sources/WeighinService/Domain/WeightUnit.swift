import Foundation
import Postgres

/// A unit of weight. Each entry keeps the unit it was entered in; a user's unit is only their display default.
public enum WeightUnit: String, Sendable, CaseIterable, PostgresEncodable, PostgresDecodable {
    case kg
    case lb

    /// One pound in kilograms, exactly (international avoirdupois pound).
    public static let kilogramsPerPound = Decimal(string: "0.45359237")!

    /// Every spelling clients may send, in order, and the unit each means: `lbs` is taken as `lb`; lower case only.
    public static let spellings: KeyValuePairs<String, WeightUnit> = ["kg": .kg, "lb": .lb, "lbs": .lb]

    /// Reads a unit as clients may send it (one of `spellings`).
    public init?(input: String) {
        guard let unit = Self.spellings.first(where: { $0.key == input })?.value else { return nil }
        self = unit
    }

    /// The largest weight accepted in this unit: 1000 kg, or 2204.62 lb.
    public var maximum: Decimal {
        switch self {
        case .kg: 1000
        case .lb: Decimal(string: "2204.62")!
        }
    }

    public static var postgresType: PostgresType { .text }
    public var postgresBytes: [UInt8]? { Array(rawValue.utf8) }
    public static func accepts(_ type: PostgresType) -> Bool { String.accepts(type) }
    public static func decode(binary: UnsafeRawBufferPointer, type: PostgresType) -> WeightUnit? {
        String.decode(binary: binary, type: type).flatMap(WeightUnit.init(rawValue:))
    }
}
