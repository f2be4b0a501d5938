/// The workloads a process knows, by kind. The daemons look kinds up here and never name one.
public struct WorkloadRegistry: Sendable {
    private let byKind: [String: any Workload]

    public init(_ workloads: [any Workload]) {
        var byKind: [String: any Workload] = [:]
        for workload in workloads {
            precondition(byKind[workload.kind] == nil, "workload kind '\(workload.kind)' registered twice")
            byKind[workload.kind] = workload
        }
        self.byKind = byKind
    }

    /// Every workload that ships with Orrery.
    public static let builtIn = WorkloadRegistry([NoopWorkload(), SweepWorkload(), TrainWorkload(), PromptSearchWorkload(), MetaLearnWorkload(), PromptTuneWorkload(), NASWorkload(), PipelineWorkload(), CompressWorkload()])

    public var kinds: [String] { byKind.keys.sorted() }

    public var all: [any Workload] { kinds.compactMap { byKind[$0] } }

    public func workload(_ kind: String) -> any Workload {
        guard let workload = byKind[kind] else { preconditionFailure("unknown workload '\(kind)'; check `kinds` first") }
        return workload
    }

    public func contains(_ kind: String) -> Bool { byKind[kind] != nil }
}
