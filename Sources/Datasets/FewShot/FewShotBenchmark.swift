import Tensor

/// The few-shot benchmarks, by the names job specs use.
///
/// `rotated-images` stands in for Omniglot, which no package this project can reach
/// carries: the 30 classes of MNIST-5k, Fashion-MNIST and UCI digits, each also rotated by
/// 90°, 180° and 270° as new classes (the rotation convention of Santoro et al. and the MAML
/// paper's Omniglot setup), 120 classes in all, resized to `side × side`. Splits are by
/// source class, so every rotation of a class is in the same split: of each data set's 10
/// classes, 6 are meta-train, 1 meta-validation and 3 meta-test (72 / 12 / 36 classes),
/// chosen by a fixed seeded shuffle.
public struct FewShotBenchmark: Sendable {
    public let name: String
    public let pool: ClassPool
    public let splits: [FewShotSplit: [Int]]
    /// Per pool class, an embedding of a description of the class (text benchmarks), in
    /// the examples' space: what a zero-shot classifier compares a query with.
    public let descriptions: [[Float]]?

    public init(name: String, pool: ClassPool, splits: [FewShotSplit: [Int]], descriptions: [[Float]]? = nil) {
        self.name = name
        self.pool = pool
        self.splits = splits
        self.descriptions = descriptions
    }

    public static let names = ["rotated-images"]
    /// Image sides the benchmark is offered at.
    public static let sides = [14, 28]
    /// Examples kept per Fashion-MNIST class (its training split has 6,000), as many as
    /// MNIST-5k has, so no source outweighs the others.
    static let fashionPerClass = 500

    /// Loads the benchmark `name` from the data cache (`scripts/fetch-data`).
    public static func load(_ name: String, side: Int) throws(DatasetError) -> FewShotBenchmark {
        guard names.contains(name) else {
            throw DatasetError(path: name, "unknown few-shot benchmark; known: \(names.joined(separator: ", "))")
        }
        guard sides.contains(side) else {
            throw DatasetError(path: name, "image side \(side) is not offered; use one of \(sides)")
        }
        var pool = ClassPool(features: side * side)
        var splits: [FewShotSplit: Set<String>] = [:]
        for dataset in ["mnist-5k", "fashion-mnist", "digits"] {
            let (train, test) = try DatasetCatalog.load(dataset)
            let perClass = dataset == "fashion-mnist" ? fashionPerClass : Int.max
            let byClass = Self.imagesByClass([train, test], limitPerClass: perClass)
            let from = train.imageShape[1]
            for (label, images) in byClass.enumerated() {
                let source = "\(dataset):\(label)"
                let resized = images.map { ImageTransform.resize($0[...], from: from, to: side) }
                for turns in 0..<4 {
                    let pixels = resized.flatMap { ImageTransform.rotate($0, side: side, quarterTurns: turns) }
                    pool.add(name: "\(source)@\(turns * 90)", source: source, values: pixels)
                }
            }
            for (split, labels) in Self.splitLabels(classes: byClass.count, test: 3, validation: 1) {
                splits[split, default: []].formUnion(labels.map { "\(dataset):\($0)" })
            }
        }
        return FewShotBenchmark(
            name: name, pool: pool, splits: splits.mapValues { pool.classes(from: $0) })
    }

    /// Each class's images (as flat rows), up to `limitPerClass`, in the data sets' order.
    static func imagesByClass(_ sets: [LabeledImages], limitPerClass: Int) -> [[[Float]]] {
        let classes = sets[0].classes
        var byClass = [[[Float]]](repeating: [], count: classes)
        for set in sets {
            let features = set.images.shape[1]
            set.images.storage.withUnsafeBufferPointer { values in
                for (row, label) in set.labels.enumerated() where byClass[label].count < limitPerClass {
                    byClass[label].append(Array(values[(row * features)..<((row + 1) * features)]))
                }
            }
        }
        return byClass
    }

    /// `test` and `validation` of a data set's labels for meta-test and meta-validation and
    /// the rest for meta-train, by a fixed seeded shuffle (the same for every data set, so
    /// the choice is not tuned per set).
    public static func splitLabels(classes: Int, test: Int, validation: Int) -> [FewShotSplit: [Int]] {
        precondition(test + validation < classes, "a split leaves no meta-train class")
        var labels = Array(0..<classes)
        var generator = SplitMix64(seed: 20_261_129)
        labels.shuffle(using: &generator)
        return [
            .metaTest: Array(labels.prefix(test)).sorted(),
            .metaValidation: Array(labels.dropFirst(test).prefix(validation)).sorted(),
            .metaTrain: Array(labels.dropFirst(test + validation)).sorted(),
        ]
    }

    /// A sampler of `split`'s episodes.
    public func sampler(_ split: FewShotSplit, ways: Int, shots: Int, queries: Int) throws(DatasetError) -> EpisodeSampler {
        try EpisodeSampler(pool: pool, classes: splits[split] ?? [], ways: ways, shots: shots, queries: queries)
    }
}
