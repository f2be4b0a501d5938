import Wire

/// Parameter-efficient tuning of the frozen pretrained models on a few labeled examples —
/// soft prompts, P-tuning, LoRA, a linear probe — against the untuned discrete prompt and the
/// best discrete prompt searched on the same few examples, each
/// variant on the same examples, data-parallel over a gang; meta-training of a soft
/// prompt's initialization over many source tasks, which a tuning job then starts from; and
/// distillation of a teacher (SmolLM2 with its prompt) into MiniLM on unlabeled texts.
///
/// ```yaml
/// prompt-tune:
///   model: minilm                # minilm (similarity to class descriptions) | smollm2 (verbalizer likelihood)
///   task: bbc-news               # one problem: a labeled text task (classes: […] keeps some)
///   problems:                    # or many: N-way problems drawn from held-out WordNet categories
///     {task: wordnet-glosses, class_split: meta-test, ways: 4, count: 50}
///   tasks:                       # or several named tasks, for multi-task tuning (joint variants)
///     - {task: bbc-news}
///     - {task: vader-amazon, descriptions: [a negative review, a positive review]}
///   descriptions: [business, …]  # what the prompt calls each class (default: class names)
///   template: "News article: {text}"
///   shots: 16                    # training examples per class (prompt search's demonstration pool)
///   test: 500                    # held-out test examples (prompt search's own)
///   seeds: [1, 2, 3]
///   steps: 30                    # Adam steps, `batch` examples each, in micro-batches a gang shares out
///   batch: 16
///   micro_batch: 4
///   lr: 0.003
///   prompt_length: 8
///   max_text_tokens: 128
///   lora_rank: 8
///   lora_alpha: 16
///   reparameterization_hidden: 256   # p-tuning's MLP
///   workers: 2                   # each task on a gang of 2 (or {min: 1, max: 4})
///   checkpoint_every: 10
///   gradient_checkpointing: true # recompute each layer in the backward pass: less memory, ~1/3 more time
///   save: prompts                # a directory: one safetensors file per tuned run
///   variants:
///     - zero-shot                # the discrete prompt alone
///     - soft-prompt/random       # method/init
///     - soft-prompt/vocabulary
///     - {method: soft-prompt, init: text, text: "a news article about"}
///     - {method: soft-prompt, init: search-report, path: reports/bbc/report.json}
///     - {method: soft-prompt, init: file, path: meta-prompt.safetensors}
///     - {method: p-tuning, init: vocabulary}
///     - {method: lora, lr: 0.001}
///     - linear-probe
///     - method: discrete-search  # the best discrete prompt searched on the K shots alone, among
///       templates: ["{text}", "Definition: {text}"]        # (default: the job's template)
///       descriptions: ["{description}", "{pos}: {topic}"]  # patterns: {class} {description} {topic} {pos}
///       prototypes: [false, true]  # the shots join their class vectors, scored leave-one-out
///                                  # (default [false, true] on minilm; smollm2 takes [false])
///     - {method: soft-prompt, init: vocabulary, joint: true}   # one prompt for all `tasks`
///     - {method: lora, distill: true}  # learns the teacher's logits on unlabeled texts
///     - {method: lora, prune: {heads: 0.5, feed_forward: 0.5}}   # MiniLM keeps these fractions of
///                                # every layer's heads and feed-forward neurons (the weightiest) before tuning
///   int8: true                   # also score each tuned MiniLM with its linear layers in int8
///   teacher:                     # distillation: planned first; the distilled variants wait for it
///     model: smollm2
///     template: "Tweet: {text}\nSentiment:"
///     descriptions: [" sad", " happy"]
///     prompt: tweets-teacher/0-soft-prompt-text-s1.safetensors   # optional tuned soft prompt
///     unlabeled: 1200            # texts of the training half after the K-shot pool, labels unread
///     temperature: 2
///     alpha: 0.5                 # α·T²·KL(teacher ‖ student) + (1 − α)·CE(student, teacher's label)
/// ```
/// A meta-training job has `meta:` instead of `variants` (and `init:` for where the
/// initialization itself starts):
/// ```yaml
///   init: vocabulary
///   meta:
///     algorithm: reptile         # reptile | fomaml
///     sources: [{task: wordnet-glosses, class_split: meta-train}, {task: vader-movies}]
///     ways: 4
///     shots: 4
///     queries: 8
///     inner_steps: 10            # default: steps — tuned as the downstream jobs tune
///     inner_lr: 0.003            # default: lr
///     outer_lr: 0.5
///     meta_batch: 4
///     meta_steps: 200
///   save: meta-prompt.safetensors
/// ```
public struct PromptTuneWorkload: Workload {
    public init() {}

    public var kind: String { "prompt-tune" }
    public var summary: String { "tune soft prompts, P-tuning, LoRA or a linear probe on few examples; meta-learn a prompt initialization" }

    public func makePlanner(_ section: SpecMapping) throws(SpecError) -> any Planner {
        PromptTunePlanner(tasks: try PromptTuneSpec.read(section))
    }

    public func makeExecutor() throws -> any Executor { PromptTuneExecutor() }
}
