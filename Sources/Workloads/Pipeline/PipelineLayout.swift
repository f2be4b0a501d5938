/// Where each gang member sits in a pipeline of `stages` stages, each replicated
/// `replicas` times for data parallelism: rank = replica × stages + stage. With one
/// replica a member's pipeline neighbours are its ring neighbours.
struct PipelineLayout: Equatable {
    let stages: Int
    let replicas: Int
    let rank: Int

    init(stages: Int, replicas: Int, rank: Int) {
        precondition(stages >= 1 && replicas >= 1 && (0..<(stages * replicas)).contains(rank))
        (self.stages, self.replicas, self.rank) = (stages, replicas, rank)
    }

    var stage: Int { rank % stages }
    var replica: Int { rank / stages }
    var isFirstStage: Bool { stage == 0 }
    var isLastStage: Bool { stage == stages - 1 }

    func rank(stage: Int, replica: Int) -> Int { replica * stages + stage }

    /// The member that sends this one its inputs (nil on the first stage).
    var previous: Int? { isFirstStage ? nil : rank(stage: stage - 1, replica: replica) }
    /// The member this one sends its outputs to (nil on the last stage).
    var next: Int? { isLastStage ? nil : rank(stage: stage + 1, replica: replica) }
    /// This stage's replicas, in replica order: who sums this stage's gradients together.
    var replicaGroup: [Int] { (0..<replicas).map { rank(stage: stage, replica: $0) } }
    /// Every stage of this replica's pipeline.
    var pipeline: [Int] { (0..<stages).map { rank(stage: $0, replica: replica) } }
}

/// The 64-bit names of a pipeline's point-to-point messages: what they carry, the step
/// (or evaluation round), and the micro-batch.
enum PipelineMessage: UInt64 {
    case activations = 1
    case gradients = 2
    case gradientSum = 3
    case evaluation = 4
    case checkpoint = 5
    case checkpointLength = 6
    case summary = 7
    case unitCosts = 8
    case scores = 9

    /// kind (8 bits) | step (40 bits) | micro-batch (16 bits).
    func key(step: Int, microBatch: Int = 0) -> UInt64 {
        rawValue << 56 | (UInt64(step) & 0xFF_FFFF_FFFF) << 16 | UInt64(microBatch) & 0xFFFF
    }
}
