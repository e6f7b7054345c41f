import ArgumentParser

/// An on/off setting: `on`/`off`, `true`/`false`, `1`/`0`, `yes`/`no`.
struct Switch: ExpressibleByArgument, Sendable {
    let isOn: Bool

    init?(argument: String) {
        switch argument.lowercased() {
        case "on", "true", "1", "yes": isOn = true
        case "off", "false", "0", "no": isOn = false
        default: return nil
        }
    }
}
