/// Which classes episodes of each phase draw from. The three are disjoint.
public enum FewShotSplit: String, Sendable, CaseIterable {
    case metaTrain = "meta-train"
    case metaValidation = "meta-validation"
    case metaTest = "meta-test"
}
