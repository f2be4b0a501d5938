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
    /// The largest frame accepted from a peer (`ZMQ_MAXMSGSIZE`); libzmq drops a connection
    /// as soon as its peer announces a bigger one, before reading or allocating it. -1: no
    /// limit (only for inproc sockets between threads of one process).
    public var maximumMessageBytes: Int64

    public init(lingerMilliseconds: Int32, sendHighWaterMark: Int32, receiveHighWaterMark: Int32, maximumMessageBytes: Int64) {
        self.lingerMilliseconds = lingerMilliseconds
        self.sendHighWaterMark = sendHighWaterMark
        self.receiveHighWaterMark = receiveHighWaterMark
        self.maximumMessageBytes = maximumMessageBytes
    }

    /// The largest control-plane frame (one protobuf envelope): room for a lease batch or a
    /// checkpoint of the models Orrery trains, far below what a flood could pin.
    public static let maximumControlMessageBytes: Int64 = 64 << 20
    /// The largest data-plane frame: one chunk of a collective (at most
    /// `maximumChunkBytes` of floats) plus its small protobuf header.
    public static let maximumDataPlaneMessageBytes: Int64 = maximumChunkBytes + 64 * 1024
    /// The largest tensor chunk a collective sends in one frame.
    public static let maximumChunkBytes: Int64 = 1 << 20

    /// Control traffic between daemons: a short linger so a shutdown notice or final
    /// result still leaves on close; at most 100 messages queued each way per peer.
    ///
    /// Both queues are what a peer that floods, or never reads, can pin in the other's
    /// memory, so they hold what one turn of a reader drains and no more: peers batch what
    /// they send (a frame holds many leases or results), a lease batch that meets a full
    /// queue is taken back without costing an attempt, and a watcher whose queue is full
    /// is dropped. The send queue is the shorter because replies can be large (a status
    /// reply lists every job and worker): a client that asks and never reads pins at most
    /// 100 of them. On receipt, a connection that floods and hangs up leaves at most 100
    /// unread frames behind for the reader to get through.
    public static let control = SocketPolicy(
        lingerMilliseconds: 500, sendHighWaterMark: 100, receiveHighWaterMark: 100,
        maximumMessageBytes: maximumControlMessageBytes)

    /// Threads of one process talking over inproc: nothing to wait for on close, and no
    /// limit, since both ends live and die together.
    public static let inproc = SocketPolicy(
        lingerMilliseconds: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0, maximumMessageBytes: -1)

    /// A one-shot client (status, cancel): nothing pending matters once it has its answer.
    public static let client = SocketPolicy(
        lingerMilliseconds: 200, sendHighWaterMark: 1_000, receiveHighWaterMark: 10_000,
        maximumMessageBytes: maximumControlMessageBytes)

    /// Tensor traffic to a gang neighbour: never drop or refuse a queued chunk (a
    /// collective's memory is bounded by its algorithm, not by the queue), and keep sending
    /// what is queued for a while after close, since the last chunks of a call are often
    /// still leaving when the caller moves on.
    public static let dataPlaneSend = SocketPolicy(
        lingerMilliseconds: 5_000, sendHighWaterMark: 0, receiveHighWaterMark: 0,
        maximumMessageBytes: maximumDataPlaneMessageBytes)

    /// A worker's data-plane endpoint, which anyone on the network can reach: a bounded
    /// queue per connection (64 chunks: a full chunk stream keeps the ring busy while a
    /// flood pins at most 64 frames of at most `maximumDataPlaneMessageBytes` each). A
    /// full queue stops libzmq reading that connection (TCP pushes back); a ring's sender
    /// queues on its own side instead, since its send high-water mark is unbounded.
    public static let dataPlaneReceive = SocketPolicy(
        lingerMilliseconds: 0, sendHighWaterMark: 0, receiveHighWaterMark: 64,
        maximumMessageBytes: maximumDataPlaneMessageBytes)
}
