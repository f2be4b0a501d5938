/// The queueing and shutdown behaviour of a socket, which every socket is created with.
///
/// libzmq's defaults (linger forever, 1,000-message high-water marks) quietly hang a process
/// at exit or drop messages under load; Orrery names its choice for every socket instead.
public struct SocketPolicy: Sendable, Equatable {
    /// Milliseconds that unsent messages are kept after close; -1 waits forever.
    public var lingerMilliseconds: Int32
    /// Messages queued for sending per peer before sends block or fail (0: no limit).
    public var sendHighWaterMark: Int32
    /// Messages queued on receipt per peer before the peer is pushed back (0: no limit).
    public var receiveHighWaterMark: Int32

    public init(lingerMilliseconds: Int32, sendHighWaterMark: Int32, receiveHighWaterMark: Int32) {
        self.lingerMilliseconds = lingerMilliseconds
        self.sendHighWaterMark = sendHighWaterMark
        self.receiveHighWaterMark = receiveHighWaterMark
    }

    /// Control traffic between daemons: a short linger so a shutdown notice or final
    /// result still leaves on close, and deep queues because leases are sent in bursts and a
    /// dropped control frame costs a whole lease timeout.
    public static let control = SocketPolicy(
        lingerMilliseconds: 500, sendHighWaterMark: 100_000, receiveHighWaterMark: 100_000)

    /// Threads of one process talking over inproc: nothing to wait for on close, and no
    /// limit, since both ends live and die together.
    public static let inproc = SocketPolicy(
        lingerMilliseconds: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0)

    /// A one-shot client (status, cancel): nothing pending matters once it has its answer.
    public static let client = SocketPolicy(
        lingerMilliseconds: 200, sendHighWaterMark: 1_000, receiveHighWaterMark: 10_000)

    /// Tensor traffic between gang members: never drop or refuse a queued chunk (a
    /// collective's memory is bounded by its algorithm, not by the queue), and keep sending
    /// what is queued for a while after close, since the last chunks of a call are often
    /// still leaving when the caller moves on.
    public static let dataPlane = SocketPolicy(
        lingerMilliseconds: 5_000, sendHighWaterMark: 0, receiveHighWaterMark: 0)
}
