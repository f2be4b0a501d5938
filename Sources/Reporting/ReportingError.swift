/// What went wrong writing or reading a report file.
public enum ReportingError: Error, Equatable, CustomStringConvertible {
    /// A file or directory could not be created or written.
    case io(path: String, String)
    /// A TFRecord whose framing or checksums are wrong.
    case corruptRecord(offset: Int, String)

    public var description: String {
        switch self {
        case .io(let path, let why): "cannot write \(path): \(why)"
        case .corruptRecord(let offset, let what): "corrupt TFRecord at byte \(offset): \(what)"
        }
    }
}
