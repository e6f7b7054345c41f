/// How often each scenario is picked, as relative integer weights.
public struct ScenarioMix: Sendable, Equatable {
    /// The scenarios with a weight above zero, in the order given.
    public private(set) var weights: [(scenario: Scenario, weight: Int)]

    /// The default mix: `list=70,create=20,stats=5,get=5`.
    public static let standard = ScenarioMix(validated: [(.list, 70), (.create, 20), (.stats, 5), (.get, 5)])

    /// A mix that sends only `GET` of the raw path.
    static let rawOnly = ScenarioMix(validated: [(.raw, 1)])

    private init(validated weights: [(scenario: Scenario, weight: Int)]) {
        self.weights = weights
    }

    /// Parses `list=70,create=20,stats=5,get=5`; names are list, create, stats, get, trend, me, ema,
    /// progress, changes and put.
    public init(parsing text: String) throws(LoadTestError) {
        var weights: [(scenario: Scenario, weight: Int)] = []
        let selectable = Scenario.allCases.filter { $0 != .raw }
        let names = selectable.map(\.rawValue).joined(separator: ", ")
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw LoadTestError("invalid mix item '\(item)' in '\(text)': use name=weight, such as list=70,create=30")
            }
            let name = String(parts[0]).trimmingWhitespace()
            guard let scenario = Scenario(rawValue: name), scenario != .raw else {
                throw LoadTestError("unknown scenario '\(name)' in --mix: use \(names)")
            }
            guard let weight = Int(String(parts[1]).trimmingWhitespace()), weight >= 0, weight <= 1_000_000 else {
                throw LoadTestError("invalid weight '\(parts[1])' for \(name) in --mix: use a whole number from 0 to 1000000")
            }
            guard !weights.contains(where: { $0.scenario == scenario }) else {
                throw LoadTestError("scenario '\(name)' appears twice in --mix")
            }
            if weight > 0 { weights.append((scenario, weight)) }
        }
        guard !weights.isEmpty else { throw LoadTestError("--mix '\(text)' gives no scenario a weight above 0") }
        self.weights = weights
    }

    /// The weight of `scenario`, 0 if it is not in the mix.
    public func weight(of scenario: Scenario) -> Int {
        weights.first { $0.scenario == scenario }?.weight ?? 0
    }

    /// The mix as text, in the form `--mix` accepts.
    public var description: String {
        weights.map { "\($0.scenario.rawValue)=\($0.weight)" }.joined(separator: ",")
    }

    public static func == (lhs: ScenarioMix, rhs: ScenarioMix) -> Bool {
        lhs.weights.elementsEqual(rhs.weights) { $0.scenario == $1.scenario && $0.weight == $1.weight }
    }
}

/// Picks scenarios at random in proportion to their weights.
struct ScenarioPicker {
    private let scenarios: [Scenario]
    private let cumulativeWeights: [Int]

    init(_ mix: ScenarioMix) {
        scenarios = mix.weights.map(\.scenario)
        var total = 0
        cumulativeWeights = mix.weights.map { total += $0.weight; return total }
    }

    func pick(_ random: inout FastRandom) -> Scenario {
        let roll = random.next(below: cumulativeWeights[cumulativeWeights.count - 1])
        var index = 0
        while cumulativeWeights[index] <= roll { index += 1 }
        return scenarios[index]
    }
}
