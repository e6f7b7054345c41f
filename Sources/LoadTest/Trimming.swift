extension String {
    /// The text without leading and trailing whitespace (for `--mix` entries and report cells).
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
