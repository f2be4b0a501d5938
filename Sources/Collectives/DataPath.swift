/// Which transport carries the data of an all-reduce.
public enum DataPath: String, Sendable, CaseIterable {
    /// Shared memory when every member is on this host (their endpoints are ipc:// or
    /// loopback) and a segment can be made there; the ZeroMQ ring otherwise.
    case automatic
    /// Always the ZeroMQ ring, even between processes of one host.
    case ring
}
