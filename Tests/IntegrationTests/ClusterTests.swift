import Testing

/// Every test that starts real daemons lives under this suite, so that they run one at a
/// time: they share two cores, and their timings are about liveness, not speed.
@Suite(.serialized) struct ClusterTests {}
