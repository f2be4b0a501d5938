/// Why CURVE security could not be set up; each case names what was wrong.
public enum CurveError: Error, Equatable, CustomStringConvertible {
    /// Text or bytes that are not a CURVE key.
    case malformedKey(String)
    /// A key or allow-list file that cannot be used: missing, unreadable, wrongly formed, or
    /// (for a secret key) readable by others.
    case badFile(path: String, problem: String)
    /// libzmq was built without CURVE.
    case unavailable(String)

    public var description: String {
        switch self {
        case .malformedKey(let problem): problem
        case .badFile(let path, let problem): "\(path): \(problem)"
        case .unavailable(let problem): problem
        }
    }
}
