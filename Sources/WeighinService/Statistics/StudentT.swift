import Foundation

/// Student's t distribution: the quantile that confidence intervals of a least-squares slope need.
public enum StudentT {
    /// The `p` quantile (0.5 < p < 1) for `degrees` degrees of freedom: `quantile(0.975, 10)` ≈ 2.2281.
    ///
    /// Found by bisection on the distribution function, which comes from the regularized incomplete beta function
    /// (continued fraction, as in Numerical Recipes): exact to about 1e-12 for any degrees of freedom, and no table.
    public static func quantile(_ p: Double, degrees: Int) -> Double {
        precondition(p > 0.5 && p < 1 && degrees >= 1)
        var low = 0.0
        var high = 1.0
        while distribution(high, degrees: degrees) < p { high *= 2 }
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if distribution(middle, degrees: degrees) < p { low = middle } else { high = middle }
            if high - low < 1e-13 { break }
        }
        return (low + high) / 2
    }

    /// P(T ≤ t) for t ≥ 0.
    static func distribution(_ t: Double, degrees: Int) -> Double {
        let v = Double(degrees)
        return 1 - 0.5 * regularizedIncompleteBeta(v / (v + t * t), v / 2, 0.5)
    }

    /// I_x(a, b).
    static func regularizedIncompleteBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logBeta: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logPowers: Double = a * log(x) + b * log(1 - x)
        let front = exp(logBeta + logPowers)
        // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
        if x < (a + 1) / (a + b + 2) {
            return front * continuedFraction(x, a, b) / a
        }
        return 1 - front * continuedFraction(1 - x, b, a) / b
    }

    private static func continuedFraction(_ x: Double, _ a: Double, _ b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...300 {
            let m = Double(m)
            let even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + even * d
            if abs(d) < tiny { d = tiny }
            c = 1 + even / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            let odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + odd * d
            if abs(d) < tiny { d = tiny }
            c = 1 + odd / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return h
    }
}
