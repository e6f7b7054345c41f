/// Formats a weight given in hundredths as a JSON number with two decimals, such as `72.35`.
func weightText(hundredths: Int) -> String {
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}
