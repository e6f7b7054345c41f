import Foundation

/// Reads `DATABASE_URL` and `WEIGHIN_SQL_DIR` for the operator commands (`migrate`, `users`, `tokens`) when no
/// flag gives them; `serve` reads its settings through `ServeSettings.resolve`.
enum Environment {
    static func string(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}
