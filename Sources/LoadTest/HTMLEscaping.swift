/// `text` safe inside HTML or SVG text and inside a double- or single-quoted attribute: `&`, `<`, `>`, `"`
/// and `'` become character references, and control characters other than tab and newline are dropped
/// (they are not allowed in HTML or XML).
func escapeHTML(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        case "\t", "\n": out.unicodeScalars.append(scalar)
        default:
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || (0xFFFE...0xFFFF).contains(scalar.value) {
                continue
            }
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}
