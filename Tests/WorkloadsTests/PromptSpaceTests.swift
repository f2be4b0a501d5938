import Datasets
import Search
import Tensor
import Testing
import Workloads

@Suite("Prompt search space")
struct PromptSpaceTests {
    let space = PromptSpace(
        instructions: ["Classify the review.", "Is this review positive or negative?"],
        templates: ["Review: {text}\nSentiment:", "{text}\nThe review is"],
        verbalizers: [[" negative", " positive"], [" bad", " good"], [" no", " yes"]],
        demonstrationCounts: [0, 1, 2], demonstrationDraws: 2)

    @Test("every candidate is listed once, the baseline first")
    func enumeration() {
        let all = space.all()
        // Zero demonstrations count once, not once per draw.
        #expect(all.count == space.size && space.size == 2 * 2 * 3 * (1 + 2 * 2) && Set(all).count == all.count)
        #expect(all.allSatisfy { $0 == space.canonical($0) })
        #expect(all.first == PromptCandidate())
    }

    @Test("mutation changes exactly one gene; crossover takes every gene from a parent; both are seeded")
    func operators() {
        var generator = SplitMix64(seed: 3)
        for _ in 0..<200 {
            let a = space.sample(&generator), b = space.sample(&generator)
            let m = space.mutate(a, &generator)
            let changed = [m.instruction != a.instruction, m.template != a.template, m.verbalizer != a.verbalizer,
                m.demonstrations != a.demonstrations].filter { $0 }.count
            // One gene changes; the draw alone only when demonstrations are shown.
            #expect(m != a && m == space.canonical(m))
            #expect(changed == 1 || (changed == 0 && m.demonstrationDraw != a.demonstrationDraw && space.demonstrationCounts[a.demonstrations] > 0))
            let c = space.crossover(a, b, &generator)
            #expect([a.instruction, b.instruction].contains(c.instruction) && [a.verbalizer, b.verbalizer].contains(c.verbalizer))
        }
        var one = SplitMix64(seed: 9), two = SplitMix64(seed: 9)
        #expect((0..<10).map { _ in space.sample(&one) } == (0..<10).map { _ in space.sample(&two) })
    }

    @Test("rendering puts the instruction and per-class demonstrations with their verbalizers in the prefix, the same each time")
    func rendering() throws {
        let pool = try LabeledText.load("vader-tweets").split(fraction: 0.02, seed: 1).first
        let baseline = RenderedPrompt(PromptCandidate(), in: space, pool: pool)
        #expect(baseline.prefix == "Classify the review.\n\n" && baseline.verbalizers == [" negative", " positive"])
        let candidate = PromptCandidate(instruction: 1, template: 0, verbalizer: 1, demonstrations: 2, demonstrationDraw: 1)
        let rendered = RenderedPrompt(candidate, in: space, pool: pool)
        #expect(rendered.prefix.hasPrefix("Is this review positive or negative?\n\nReview: "))
        #expect(rendered.prefix.components(separatedBy: "Review: ").count - 1 == 4)  // 2 per class
        #expect(rendered.prefix.components(separatedBy: "\nSentiment: bad\n\n").count - 1 == 2)
        #expect(rendered.prefix.components(separatedBy: "\nSentiment: good\n\n").count - 1 == 2)
        #expect(RenderedPrompt(candidate, in: space, pool: pool) == rendered)
        var other = candidate
        other.demonstrationDraw = 0
        #expect(RenderedPrompt(other, in: space, pool: pool).prefix != rendered.prefix)
    }

    @Test("the space drives a search strategy: successive halving over every candidate")
    func drivesSearch() {
        var search = SuccessiveHalving(candidates: space.all(), minimumBudget: 8, maximumBudget: 1024)
        var asked = 0
        while !search.isFinished {
            var batch: [Trial<PromptCandidate>] = []
            while let trial = search.ask() { batch.append(trial) }
            asked += batch.count
            for trial in batch { search.tell(trial, score: Double(trial.candidate.verbalizer * 10 + trial.candidate.demonstrations)) }
        }
        #expect(search.field.count == 1 && search.field[0].verbalizer == 2 && search.field[0].demonstrations == 2)
        #expect(asked == 60 + 30 + 15 + 8 + 4 + 2)  // rungs until one is left
    }
}
