import Logging
import Postgres
import Primitives

/// A setting's value as it is written in a flag or an environment variable, both ways.
///
/// Flags and environment variables are read by the same `init?(settingText:)`, so both accept the same forms and
/// refuse them with the same message.
public protocol SettingText: Sendable {
    init?(settingText: String)
    /// The value as `init?(settingText:)` reads it back (for `--help`'s defaults).
    var settingText: String { get }
}

extension String: SettingText {
    public init?(settingText: String) { self = settingText }
    public var settingText: String { self }
}

extension Int: SettingText {
    public init?(settingText: String) {
        guard !settingText.isEmpty, settingText.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let value = Int(settingText)
        else { return nil }
        self = value
    }
    public var settingText: String { String(self) }
}

extension Duration: SettingText {
    public init?(settingText: String) { self.init(text: settingText) }
    public var settingText: String { text }
}

/// On/off: `on`/`off`, `true`/`false`, `1`/`0`, `yes`/`no`.
extension Bool: SettingText {
    public init?(settingText: String) {
        switch settingText.lowercased() {
        case "on", "true", "1", "yes": self = true
        case "off", "false", "0", "no": self = false
        default: return nil
        }
    }
    public var settingText: String { self ? "on" : "off" }
}

/// A comma-separated list; blanks around items are dropped.
extension Array: SettingText where Element == String {
    public init?(settingText: String) {
        self = settingText.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
    public var settingText: String { isEmpty ? "none" : joined(separator: ",") }
}

extension Optional: SettingText where Wrapped: SettingText {
    public init?(settingText: String) {
        guard let value = Wrapped(settingText: settingText) else { return nil }
        self = .some(value)
    }
    public var settingText: String { self?.settingText ?? "none" }
}

extension PostgresConfiguration.PreparedStatements: SettingText {
    public init?(settingText: String) { self.init(rawValue: settingText) }
    public var settingText: String { rawValue }
}

extension LogFormat: SettingText {
    public init?(settingText: String) { self.init(rawValue: settingText) }
    public var settingText: String { rawValue }
}

extension Logger.Level: SettingText {
    public init?(settingText: String) { self.init(rawValue: settingText) }
    public var settingText: String { rawValue }
}
