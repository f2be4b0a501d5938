import Foundation
import LanguageModels
import OrreryTestSupport

/// The values `scripts/reference/lm_reference.py` computed with numpy from the same model
/// files (`Tests/Fixtures/lm-reference.json`), and the models, loaded once per test process.
struct Reference: Decodable {
    struct MiniLM: Decodable {
        let sentences: [String]
        let token_ids: [[Int]]
        let embeddings: [[Float]]
        let cosine_food_bread: Double
    }

    struct Continuation: Decodable {
        let ids: [Int]
        let text: String
    }

    struct Top: Decodable {
        let ids: [Int]
        let values: [Float]
    }

    struct SmolLM: Decodable {
        let bpe_texts: [String]
        let bpe_ids: [[Int]]
        let logit_prompt: String
        let logit_prompt_ids: [Int]
        let last_logits_first_64: [Float]
        let last_logits_top20: Top
        let first_position_logits_first_64: [Float]
        let greedy: [String: Continuation]
        let likelihood_prompt: String
        let likelihood_continuations: [String]
        let log_likelihoods: [Double]
    }

    let minilm: MiniLM
    let smollm2: SmolLM

    static let shared: Reference = {
        let url = PackageRoot.url.appendingPathComponent("Tests/Fixtures/lm-reference.json")
        return try! JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }()
}

enum Models {
    static let minilm: SentenceEncoder = try! SentenceEncoder(directory: SentenceEncoder.defaultDirectory)
    static let smollm: CausalLanguageModel = try! CausalLanguageModel(path: CausalLanguageModel.defaultPath)
}

func cosine(_ a: [Float], _ b: [Float]) -> Double {
    let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    let na = a.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot(), nb = b.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    return dot / (na * nb)
}
