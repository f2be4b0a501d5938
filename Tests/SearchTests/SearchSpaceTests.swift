import Search
import Tensor
import Testing

@Suite("Search spaces with conditional parameters")
struct SearchSpaceTests {
    /// An MLP-or-CNN space: widths of layer k exist only when depth ≥ k.
    static func space() throws -> SearchSpace {
        try SearchSpace([
            .init(name: "family", domain: .choice([.text("mlp"), .text("cnn")])),
            .init(name: "depth", domain: .integer(1...3), conditions: [try Condition(parsing: "family == mlp")]),
            .init(name: "width_1", domain: .choice([.integer(64), .integer(128)]), conditions: [try Condition(parsing: "family == mlp")]),
            .init(name: "width_2", domain: .choice([.integer(64), .integer(128)]), conditions: [try Condition(parsing: "depth >= 2")]),
            .init(name: "width_3", domain: .choice([.integer(64), .integer(128)]), conditions: [try Condition(parsing: "depth>=3")]),
            .init(name: "blocks", domain: .integer(1...2), conditions: [try Condition(parsing: "family == cnn")]),
            .init(name: "learning_rate", domain: .logUniform(1e-4...1e-1)),
            .init(name: "seed_word", domain: .constant(.text("fixed"))),
        ])
    }

    /// The names a configuration must have, worked out by hand from its own values.
    static func expectedNames(_ c: Configuration) -> [String] {
        var names = ["family"]
        if c["family"] == .text("mlp") {
            let depth = c["depth"]!.number!
            names += ["depth", "width_1"] + (depth >= 2 ? ["width_2"] : []) + (depth >= 3 ? ["width_3"] : [])
        } else {
            names += ["blocks"]
        }
        return names + ["learning_rate", "seed_word"]
    }

    @Test("samples hold exactly the active parameters, inside their domains, and cover every branch")
    func sampling() throws {
        let space = try Self.space()
        var generator = SplitMix64(seed: 3)
        var depths = Set<Int>(), families = Set<String>()
        var rates: [Double] = []
        for _ in 0..<400 {
            let c = space.sample(using: &generator)
            #expect(c.settings.map(\.name) == Self.expectedNames(c), "\(c)")
            try space.validate(c)
            if case .integer(let d)? = c["depth"] { depths.insert(d) }
            families.insert(c["family"]!.description)
            rates.append(c["learning_rate"]!.number!)
        }
        #expect(depths == [1, 2, 3] && families == ["mlp", "cnn"])
        // Log-uniform: about a third of the draws in each decade of 1e-4…1e-1.
        let lowDecade = rates.filter { $0 < 1e-3 }.count
        #expect((90...180).contains(lowDecade), "\(lowDecade) of 400 below 1e-3")
        #expect(rates.allSatisfy { (1e-4...1e-1).contains($0) })
    }

    @Test("mutation changes exactly one searched choice and re-resolves what depends on it")
    func mutation() throws {
        let space = try Self.space()
        var generator = SplitMix64(seed: 5)
        for _ in 0..<300 {
            let parent = space.sample(using: &generator)
            let child = space.mutate(parent, using: &generator)
            try space.validate(child)
            #expect(child.settings.map(\.name) == Self.expectedNames(child))
            let (p, c) = (parent.values, child.values)
            let changed = p.keys.filter { c[$0] != nil && c[$0] != p[$0] }
            if p["family"] == c["family"], p["depth"] == c["depth"] {
                // Same structure: exactly one value changed.
                #expect(changed.count == 1, "\(parent) -> \(child)")
            } else {
                // A structural choice changed: it alone among the parameters both have.
                #expect(changed.count == 1 && ["family", "depth"].contains(changed[0]), "\(parent) -> \(child)")
            }
            #expect(c["seed_word"] == .text("fixed"))
        }
        // Depth 3 → 1 drops width_2 and width_3; 1 → 3 draws them.
        let deep = try Configuration(encoded: "family=mlp,depth=3,width_1=64,width_2=128,width_3=64,learning_rate=0.001,seed_word=fixed")
        try space.validate(deep)
        var sawShallow = false
        for _ in 0..<100 {
            let child = space.mutate(deep, using: &generator)
            if child["depth"] == .integer(1) {
                sawShallow = true
                #expect(child["width_2"] == nil && child["width_3"] == nil && child["width_1"] == .integer(64))
            }
        }
        #expect(sawShallow)
    }

    @Test("a configuration's text form is its identity and reads back equal")
    func encoding() throws {
        let space = try Self.space()
        var generator = SplitMix64(seed: 9)
        for _ in 0..<200 {
            let c = space.sample(using: &generator)
            let read = try Configuration(encoded: c.description)
            #expect(read == c && read.hashValue == c.hashValue)
            try space.validate(read)
        }
        #expect(ParameterValue(parsing: "1.0") == .real(1) && ParameterValue(parsing: "1") == .integer(1))
        #expect(ParameterValue.real(0.000123456).description == "0.000123")
        #expect(throws: SearchSpaceError.self) { try Configuration(encoded: "a=1,a=2") }
        #expect(throws: SearchSpaceError.self) { try Configuration(encoded: "a=1,b") }
    }

    @Test("validation names what a configuration from outside gets wrong")
    func validation() throws {
        let space = try Self.space()
        func problem(_ text: String) -> String? {
            do {
                try space.validate(try Configuration(encoded: text))
                return nil
            } catch { return error.message }
        }
        #expect(problem("family=cnn,blocks=2,learning_rate=0.01,seed_word=fixed") == nil)
        #expect(problem("family=cnn,blocks=9,learning_rate=0.01,seed_word=fixed")?.contains("blocks=9 is outside") == true)
        #expect(problem("family=cnn,learning_rate=0.01,seed_word=fixed")?.contains("lacks 'blocks'") == true)
        #expect(problem("family=cnn,blocks=1,width_2=64,learning_rate=0.01,seed_word=fixed")?.contains("width_2") == true)
        #expect(problem("family=mlp,depth=1,width_1=64,learning_rate=0.5,seed_word=fixed")?.contains("learning_rate=0.5") == true)
    }

    @Test("a space refuses repeated names, empty choices and conditions on later or unknown parameters")
    func refusals() throws {
        #expect(throws: SearchSpaceError.self) { try SearchSpace([.init(name: "a", domain: .integer(1...2)), .init(name: "a", domain: .integer(1...2))]) }
        #expect(throws: SearchSpaceError.self) { try SearchSpace([.init(name: "a", domain: .choice([]))]) }
        #expect(throws: SearchSpaceError.self) { try SearchSpace([.init(name: "a", domain: .logUniform(0...1))]) }
        #expect(throws: SearchSpaceError.self) {
            try SearchSpace([.init(name: "a", domain: .integer(1...2), conditions: [Condition(name: "b", comparison: .equal, value: .integer(1))]), .init(name: "b", domain: .integer(1...2))])
        }
        #expect(throws: SearchSpaceError.self) { try Condition(parsing: "depth >> 3") }
        #expect(throws: SearchSpaceError.self) { try Condition(parsing: "== 3") }
        #expect(try Condition(parsing: "depth>=3") == Condition(name: "depth", comparison: .atLeast, value: .integer(3)))
    }
}
