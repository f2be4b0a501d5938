import Foundation
import SwiftProtobuf
import Synchronization

/// Writes one TensorBoard event file: scalars (each tag a curve, as TensorBoard's Scalars
/// tab shows them) and hyperparameters (its HParams tab), in TFRecord framing.
///
/// Events are buffered and reach the file on `flush()`, which a live writer calls after
/// each batch of points so that TensorBoard, re-reading the file, sees a running job's
/// curves grow. Not thread-safe: one owner writes.
public final class EventFileWriter {
    /// The file's path (`events.out.tfevents.<seconds>.<host>.<pid>.<n>` in the directory).
    public let path: String
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var taggedMetadata: Set<String> = []
    /// Files opened by this process, numbering their names (two in one second differ).
    private static let filesOpened = Mutex(0)

    /// Creates the directory if needed and a new event file in it, beginning with the
    /// file-version event TensorBoard expects.
    /// - Throws: `ReportingError.io` naming the path that could not be made or opened.
    public init(directory: String) throws(ReportingError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .io(path: directory, error.localizedDescription)
        }
        let number = Self.filesOpened.withLock { count in
            count += 1
            return count
        }
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        path = (directory as NSString).appendingPathComponent(
            "events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host).\(getpid()).\(number)")
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io(path: path, String(cString: strerror(errno))) }
        var event = Tensorboard_Event()
        event.wallTime = Date().timeIntervalSince1970
        event.fileVersion = "brain.Event:2"
        append(event)
        try flush()
    }

    deinit { close(descriptor) }

    /// One point of the curve `tag`. The first point of a tag carries the scalars plugin's
    /// metadata, as TensorFlow's writers do.
    public func scalar(_ tag: String, _ value: Double, step: Int64, wallTime: Double = Date().timeIntervalSince1970) {
        var summaryValue = Tensorboard_Summary.Value()
        summaryValue.tag = tag
        summaryValue.simpleValue = Float(value)
        if taggedMetadata.insert(tag).inserted {
            summaryValue.metadata.pluginData.pluginName = "scalars"
            summaryValue.metadata.dataClass = .scalar
        }
        var event = Tensorboard_Event()
        event.wallTime = wallTime
        event.step = step
        event.summary.value = [summaryValue]
        append(event)
    }

    /// The run's hyperparameters (numbers, strings, booleans) for the HParams tab, with the
    /// metric tags it should show beside them.
    public func hyperparameters(_ values: [String: HyperparameterValue], metrics: [String], startTime: Double = Date().timeIntervalSince1970) {
        var experiment = Tensorboard_Hparams_Experiment()
        experiment.timeCreatedSecs = startTime
        experiment.hparamInfos = values.keys.sorted().map { name in
            var info = Tensorboard_Hparams_HParamInfo()
            info.name = name
            info.type = values[name]!.dataType
            return info
        }
        experiment.metricInfos = metrics.map { tag in
            var info = Tensorboard_Hparams_MetricInfo()
            info.name.tag = tag
            return info
        }
        var start = Tensorboard_Hparams_SessionStartInfo()
        start.startTimeSecs = startTime
        start.hparams = values.mapValues(\.protobuf)
        writePlugin(tag: "_hparams_/experiment", .experiment(experiment))
        writePlugin(tag: "_hparams_/session_start_info", .sessionStartInfo(start))
    }

    /// Marks the run finished (TensorBoard's HParams tab shows its status).
    public func sessionEnded(succeeded: Bool, endTime: Double = Date().timeIntervalSince1970) {
        var end = Tensorboard_Hparams_SessionEndInfo()
        end.status = succeeded ? .success : .failure
        end.endTimeSecs = endTime
        writePlugin(tag: "_hparams_/session_end_info", .sessionEndInfo(end))
    }

    /// Writes what is buffered.
    /// - Throws: `ReportingError.io` when the file cannot be written (the events stay buffered).
    public func flush() throws(ReportingError) {
        var written = 0
        while written < buffer.count {
            let count = buffer[written...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                buffer.removeFirst(written)
                throw .io(path: path, String(cString: strerror(errno)))
            }
            written += count
        }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writePlugin(tag: String, _ data: Tensorboard_Hparams_HParamsPluginData.OneOf_Data) {
        var content = Tensorboard_Hparams_HParamsPluginData()
        content.version = 0
        content.data = data
        var summaryValue = Tensorboard_Summary.Value()
        summaryValue.tag = tag
        summaryValue.metadata.pluginData.pluginName = "hparams"
        summaryValue.metadata.pluginData.content = (try? content.serializedData()) ?? Data()
        var event = Tensorboard_Event()
        event.wallTime = Date().timeIntervalSince1970
        event.summary.value = [summaryValue]
        append(event)
    }

    private func append(_ event: Tensorboard_Event) {
        guard let bytes: [UInt8] = try? event.serializedBytes() else { return }
        buffer += RecordFraming.frame(bytes)
    }
}

/// A hyperparameter's value as TensorBoard's HParams plugin types it.
public enum HyperparameterValue: Sendable, Equatable {
    case number(Double)
    case text(String)
    case flag(Bool)

    var dataType: Tensorboard_Hparams_DataType {
        switch self {
        case .number: .float64
        case .text: .string
        case .flag: .bool
        }
    }

    var protobuf: Google_Protobuf_Value {
        switch self {
        case .number(let value): Google_Protobuf_Value(numberValue: value)
        case .text(let value): Google_Protobuf_Value(stringValue: value)
        case .flag(let value): Google_Protobuf_Value(boolValue: value)
        }
    }
}
