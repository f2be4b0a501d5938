/// A leaderboard: a ranked table of what a job compared (prompts, trials, points of a sweep), best first,
/// with a 95% interval where the score is an estimate: what the dashboard shows live and
/// `leaderboard.svg` draws.
public struct Ranking: Sendable, Equatable, Codable {
    /// What the value is, e.g. "dev accuracy".
    public var metric: String
    public var higherIsBetter: Bool
    public var rows: [Row]

    public struct Row: Sendable, Equatable, Codable {
        public var rank: Int
        public var name: String
        public var value: Double
        /// The 95% interval's ends, when the value is an estimate.
        public var lower: Double?
        public var upper: Double?
        /// One line on what the row is (a prompt's text, a trial's configuration).
        public var detail: String

        public init(rank: Int, name: String, value: Double, lower: Double? = nil, upper: Double? = nil, detail: String = "") {
            self.rank = rank
            self.name = name
            self.value = value
            self.lower = lower
            self.upper = upper
            self.detail = detail
        }
    }

    public init(metric: String, higherIsBetter: Bool, rows: [Row]) {
        self.metric = metric
        self.higherIsBetter = higherIsBetter
        self.rows = rows
    }
}

/// Points compared on several objectives at once, and which of them no other point beats
/// on all: a NAS front, say.
public struct ParetoSet: Sendable, Equatable, Codable {
    /// The objectives, e.g. ["dev_accuracy", "parameters", "latency_ms"].
    public var objectives: [String]
    /// For each objective, whether more is better.
    public var maximize: [Bool]
    public var points: [Point]

    public struct Point: Sendable, Equatable, Codable {
        public var name: String
        public var values: [Double]
        public var onFront: Bool
        public var detail: String

        public init(name: String, values: [Double], onFront: Bool, detail: String = "") {
            self.name = name
            self.values = values
            self.onFront = onFront
            self.detail = detail
        }
    }

    public init(objectives: [String], maximize: [Bool], points: [Point]) {
        self.objectives = objectives
        self.maximize = maximize
        self.points = points
    }
}
