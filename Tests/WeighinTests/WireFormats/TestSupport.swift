@testable import WireFormats

/// Parses UTF-8 text with the given limits.
func parseJSON(_ text: String, limits: JSONLimits = .init()) throws(JSONParseError) -> JSONValue {
    try JSONParser.parse(Array(text.utf8), limits: limits)
}

/// The error thrown for `bytes`, or nil when they parse.
func jsonError(_ bytes: [UInt8], limits: JSONLimits = .init()) -> JSONParseError? {
    do {
        _ = try JSONParser.parse(bytes, limits: limits)
        return nil
    } catch {
        return error
    }
}

/// The error thrown for raw `bytes`, or nil when they parse.
func jsonError(_ bytes: UnsafeRawBufferPointer) -> JSONParseError? {
    do {
        _ = try JSONParser.parse(bytes)
        return nil
    } catch {
        return error
    }
}

/// The error thrown for `text`, or nil when it parses.
func jsonError(_ text: String, limits: JSONLimits = .init()) -> JSONParseError? {
    jsonError(Array(text.utf8), limits: limits)
}

/// The error thrown for CSV `bytes`, or nil when they parse.
func csvError(_ bytes: [UInt8], limits: CSVLimits = CSVLimits(maxRecords: 1000)) -> CSVError? {
    do {
        _ = try CSVReader.parse(bytes, limits: limits)
        return nil
    } catch {
        return error
    }
}

/// The error thrown for CSV `text`, or nil when it parses.
func csvError(_ text: String, limits: CSVLimits = CSVLimits(maxRecords: 1000)) -> CSVError? {
    csvError(Array(text.utf8), limits: limits)
}

func csv(_ text: String, limits: CSVLimits = CSVLimits(maxRecords: 1000)) throws(CSVError) -> [[String]] {
    try CSVReader.parse(Array(text.utf8), limits: limits)
}

func number(_ text: String) -> JSONNumber {
    JSONNumber(text)!
}

extension Array where Element == UInt8 {
    var utf8String: String { String(decoding: self, as: UTF8.self) }
}
