import Foundation
import SwiftProtobuf
import Testing

@testable import Reporting

/// TensorBoard's container: CRC-32C against published values, framing that finds every
/// damaged byte, and an event file whose records decode to the events written.
@Suite("TensorBoard event files")
struct TFRecordTests {
    @Test("CRC-32C and its mask match the reference values (RFC 3720's check value; TensorFlow's mask)")
    func checksums() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)  // RFC 3720 B.4
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.masked(Array("123456789".utf8)) == 0xC78A_B0E5)
    }

    @Test("records come back as framed, and any damaged byte or a cut is found and placed")
    func framing() throws {
        let records: [[UInt8]] = [[], [1], Array(0..<255), [UInt8](repeating: 7, count: 5000)]
        let file = records.flatMap(RecordFraming.frame)
        #expect(try RecordFraming.records(file) == records)
        for index in stride(from: 0, to: file.count, by: 97) {
            var damaged = file
            damaged[index] ^= 0x10
            #expect(throws: ReportingError.self, "byte \(index) flipped") { _ = try RecordFraming.records(damaged) }
        }
        #expect(throws: ReportingError.self) { _ = try RecordFraming.records(Array(file.dropLast(3))) }
    }

    @Test("an event file starts with its version and holds each scalar, hyperparameter and the end status as events")
    func eventFile() throws {
        let directory = NSTemporaryDirectory() + "orrery-events-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try EventFileWriter(directory: directory)
        writer.hyperparameters(["lr": .number(0.1), "model": .text("mlp"), "bn": .flag(true)], metrics: ["loss"])
        writer.scalar("loss", 2.5, step: 1, wallTime: 100)
        writer.scalar("loss", 1.5, step: 2, wallTime: 101)
        writer.sessionEnded(succeeded: true)
        try writer.flush()
        let events = try RecordFraming.records(Array(try Data(contentsOf: URL(fileURLWithPath: writer.path)))).map {
            try Tensorboard_Event(serializedBytes: $0)
        }
        #expect(events.first?.fileVersion == "brain.Event:2")
        let scalars = events.filter { $0.summary.value.first?.tag == "loss" }
        #expect(scalars.map(\.step) == [1, 2] && scalars.map { $0.summary.value[0].simpleValue } == [2.5, 1.5])
        #expect(scalars.map(\.wallTime) == [100, 101])
        #expect(scalars[0].summary.value[0].metadata.pluginData.pluginName == "scalars")
        #expect(!scalars[1].summary.value[0].hasMetadata, "metadata rides on a tag's first point only")
        let plugin = events.compactMap { event -> Tensorboard_Hparams_HParamsPluginData? in
            guard let value = event.summary.value.first, value.metadata.pluginData.pluginName == "hparams" else { return nil }
            return try? Tensorboard_Hparams_HParamsPluginData(serializedBytes: value.metadata.pluginData.content)
        }
        #expect(plugin.count == 3)
        #expect(plugin.compactMap { if case .sessionStartInfo(let start) = $0.data { start.hparams["model"]?.stringValue } else { nil } } == ["mlp"])
        let ends: [Tensorboard_Hparams_Status] = plugin.compactMap { if case .sessionEndInfo(let end) = $0.data { end.status } else { nil } }
        #expect(ends == [.success])
    }

    @Test("a task key becomes a run directory that stays inside the log")
    func runNames() {
        #expect(TensorBoardLog.runName("trial-3") == "trial-3")
        #expect(TensorBoardLog.runName("../../etc") == ".._.._etc")
        #expect(TensorBoardLog.runName("..") == "task")
        #expect(TensorBoardLog.runName("a/b c") == "a_b_c")
    }
}
