extension Communicator {
    /// Returns once every member has reached its barrier: a ring all-gather of one float,
    /// which no member can finish before every other has sent.
    public func barrier() throws(CollectiveError) {
        _ = try allGather([Float(rank)])
    }
}
