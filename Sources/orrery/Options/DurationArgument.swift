import ArgumentParser
import Runtime

/// A command-line duration: `250ms`, `30s`, `5m`, or seconds.
struct DurationArgument: ExpressibleByArgument, CustomStringConvertible {
    let milliseconds: Int

    init(milliseconds: Int) { self.milliseconds = milliseconds }

    init?(argument: String) {
        guard let value = DurationText.milliseconds(argument) else { return nil }
        milliseconds = value
    }

    var description: String { milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms" }
    var defaultValueDescription: String { description }
}
