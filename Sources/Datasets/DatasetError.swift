/// A data file that is missing, unreadable or not what it claims to be, with its path.
public struct DatasetError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let detail: String

    public init(path: String, _ detail: String) {
        self.path = path
        self.detail = detail
    }

    public var description: String { "\(path): \(detail)" }
}
