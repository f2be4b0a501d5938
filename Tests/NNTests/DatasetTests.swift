import Datasets
import Foundation
import Tensor
import Testing

@Suite("Data sets and batching")
struct DatasetTests {
    @Test("Fashion-MNIST loads from the cache: 60,000 + 10,000 images, 6,000 + 1,000 per class, pixels in [0, 1]")
    func fashionMNIST() throws {
        let train = try FashionMNIST.load(.train)
        let test = try FashionMNIST.load(.test)
        #expect(train.images.shape == [60_000, 784] && DatasetCatalog.trainingCount(of: "fashion-mnist") == 60_000)
        #expect(test.images.shape == [10_000, 784])
        for label in 0..<10 {
            #expect(train.labels.filter { $0 == label }.count == 6_000)
            #expect(test.labels.filter { $0 == label }.count == 1_000)
        }
        let pixels = test.images.scalars
        #expect(pixels.min() == 0 && pixels.max() == 1)
    }

    @Test("a missing data directory names the file and the script that fetches it")
    func missingData() {
        let error = #expect(throws: DatasetError.self) { try FashionMNIST.load(.test, directory: "/nonexistent/fmnist") }
        #expect(error?.path == "/nonexistent/fmnist/t10k-images-idx3-ubyte.gz")
        #expect(error?.detail.contains("scripts/fetch-data") == true)
    }

    @Test("a file that is not IDX, or whose header lies about its size, is refused")
    func corruptIDX() throws {
        let path = "\(NSTemporaryDirectory())/orrery-\(UInt32.random(in: 0...UInt32.max)).idx"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data([0, 0, 8, 1, 0, 0, 0, 5, 1, 2, 3]).write(to: URL(fileURLWithPath: path))
        let short = #expect(throws: DatasetError.self) { try IDXFile(path: path) }
        #expect(short?.detail.contains("header says [5]") == true)
        try Data("hello world".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: DatasetError.self) { try IDXFile(path: path) }
    }

    @Test("batches: a seeded shuffle per epoch; shards are disjoint and cover the epoch")
    func sampler() {
        let a = BatchSampler(count: 103, batchSize: 10, seed: 5, epoch: 2)
        let b = BatchSampler(count: 103, batchSize: 10, seed: 5, epoch: 2)
        #expect(Array(a) == Array(b))
        #expect(Array(a) != Array(BatchSampler(count: 103, batchSize: 10, seed: 5, epoch: 3)))
        #expect(Array(a).flatMap { $0 }.sorted() == Array(0..<103))
        #expect(Array(a).map(\.count) == Array(repeating: 10, count: 10) + [3])
        #expect(Array(BatchSampler(count: 103, batchSize: 10, dropLast: true)).count == 10)
        let shards = (0..<3).map { Array(BatchSampler(count: 103, batchSize: 4, seed: 5, epoch: 2, rank: $0, worldSize: 3)).flatMap { $0 } }
        #expect(Set(shards[0]).isDisjoint(with: shards[1]) && Set(shards[1]).isDisjoint(with: shards[2]))
        #expect((shards[0] + shards[1] + shards[2]).sorted() == Array(0..<103))
    }
}

@Suite("CSV data sets")
struct CSVDatasetTests {
    @Test("MNIST-5k and digits load with their sizes, and split the same way for the same seed")
    func catalog() throws {
        let (train, test) = try DatasetCatalog.load("mnist-5k")
        #expect(train.count == 4_000 && test.count == 1_000)
        #expect(train.images.shape == [4_000, 784] && train.imageShape == [1, 28, 28])
        let pixels = test.images.scalars
        #expect(pixels.min() == 0 && pixels.max() == 1)
        let (digitsTrain, digitsTest) = try DatasetCatalog.load("digits")
        #expect(digitsTrain.count + digitsTest.count == 1_797)
        #expect(DatasetCatalog.trainingCount(of: "mnist-5k") == train.count && DatasetCatalog.trainingCount(of: "digits") == digitsTrain.count)
        #expect(Set(digitsTest.labels) == Set(0..<10))
        let again = try DatasetCatalog.load("digits")
        #expect(again.test.labels == digitsTest.labels)
        #expect(throws: DatasetError.self) { try DatasetCatalog.load("cifar") }
    }

    @Test("a bad row is reported with its line")
    func badRow() throws {
        let path = "\(NSTemporaryDirectory())/orrery-\(UInt32.random(in: 0...UInt32.max)).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "1,2,3,0\n4,5,6,1\n7,8,2\n".write(toFile: path, atomically: true, encoding: .utf8)
        let short = #expect(throws: DatasetError.self) {
            try LabeledCSV.load(path, features: 3, scale: 1, imageShape: [3], classes: 2)
        }
        #expect(short?.detail == "line 3 has 3 fields; expected 3 values and a label")
        try "1,2,3,0\n4,x,6,1\n".write(toFile: path, atomically: true, encoding: .utf8)
        let notNumber = #expect(throws: DatasetError.self) {
            try LabeledCSV.load(path, features: 3, scale: 1, imageShape: [3], classes: 2)
        }
        #expect(notNumber?.detail == "line 2: 'x' is not a number")
        try "1,2,3,7\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: DatasetError.self) { try LabeledCSV.load(path, features: 3, scale: 1, imageShape: [3], classes: 2) }
    }
}
