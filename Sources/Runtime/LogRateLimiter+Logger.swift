import Logging

extension LogRateLimiter {
    /// Writes `message` through `logger` unless `key` is over its limit, with `why` escaped
    /// (`PrintableText`) and the count of lines left out since the last one written. Nothing
    /// is formatted for a line left out, so a flood costs a lookup per event.
    ///
    /// - Returns: whether the line was written.
    @discardableResult
    public mutating func log(
        _ logger: Logger, _ level: Logger.Level, _ message: Logger.Message, key: String, now: Int64,
        why: @autoclosure () -> String, metadata: @autoclosure () -> Logger.Metadata = [:]
    ) -> Bool {
        let decision = decide(key, now: now)
        if decision == .suppress { return false }
        var fields = metadata()
        fields["why"] = "\(PrintableText.escaped(why(), limit: 300))"
        if case .logWithSuppressed(let count) = decision { fields["suppressed_since_last"] = "\(count)" }
        logger.log(level: level, message, metadata: fields)
        return true
    }
}
