/// `Duration` in the units that system calls, settings and metrics speak (`Duration` itself only offers its
/// seconds-and-attoseconds components). NIO code converts with NIO's own `TimeAmount(_:)` instead.
extension Duration {
    /// Whole nanoseconds, saturating on overflow.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? (seconds < 0 ? .min : .max) : scaled + attoseconds / 1_000_000_000
    }

    /// Whole milliseconds (rounded toward zero), saturating on overflow.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        return overflow ? (seconds < 0 ? .min : .max) : scaled + attoseconds / 1_000_000_000_000_000
    }

    /// Whole seconds (rounded toward zero).
    public var wholeSeconds: Int {
        Int(components.seconds)
    }

    /// Seconds as a floating-point number (for logs, reports and metrics).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
