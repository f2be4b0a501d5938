import Testing

@testable import Workloads

@Suite("Meta-prompting: cleaning SmolLM2's rewrites")
struct ParaphraseCleaningTests {
    @Test("a reply's first line, without a label or quotes, kept only when it is a plausible rewrite")
    func cleaning() {
        #expect(PromptSearchExecutor.cleaned("New instruction: \"Decide if the tweet is happy or sad.\"\nThat's it!") == "Decide if the tweet is happy or sad.")
        #expect(PromptSearchExecutor.cleaned("  'Tell whether the tweet sounds positive.'  ") == "Tell whether the tweet sounds positive.")
        #expect(PromptSearchExecutor.cleaned("Note: keep it short") == "Note: keep it short")
        let original = "Classify the sentiment of the tweet as positive or negative."
        #expect(PromptSearchExecutor.plausible("Say whether the tweet is positive or negative.", rewriting: original))
        #expect(!PromptSearchExecutor.plausible("S/I.", rewriting: original))
        #expect(!PromptSearchExecutor.plausible(original, rewriting: original))
        #expect(!PromptSearchExecutor.plausible(String(repeating: "very long rambling answer ", count: 10), rewriting: original))
    }
}
