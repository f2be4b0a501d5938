import NN

extension [Dropout] {
    /// Reseeds every layer from (seed, epoch, position) at an epoch's start, so that a
    /// loop resumed at an epoch boundary, or a `train` job rerunning a NAS winner, draws the
    /// same masks as an undisturbed run.
    func reseed(seed: UInt64, epoch: Int) {
        for (index, dropout) in enumerated() { dropout.reseed(seed &+ UInt64(epoch) &* 1_000_003 &+ UInt64(index)) }
    }
}
