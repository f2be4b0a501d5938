"""The peer of scripts/bench/prompt-search: a single PyTorch process evaluating the same
prompt-search workload, the way an evaluation loop in Python scores few-shot prompts
with a local model (DSPy's or lm-eval-harness's loglikelihood requests, without their
frameworks around it). SmolLM2-135M-Instruct in plain torch from the same GGUF file
(torch_lm.SmolLM, checked against the reference first).

The workload mirrors the bench spec: 4 candidates (2 instructions × no or 2 demonstrations
per class, the demonstrations drawn from the task's other rows) on 60 tweets of vader-tweets, each text cut to 64 tokens, the template "Tweet: {text}\\nSentiment:".
Two modes, as Orrery's: --reuse runs each prompt's prefix once and continues a copy of its
keys and values per text; without it every text runs prefix + text from scratch. Either way
each text's verbalizers continue one copy of the text's cache. Tokenization happens before
the clock starts. Prints evaluations/s (texts scored per second, all candidates).

    .venv-peers/bin/python scripts/bench/peers/torch_prompt_eval.py --threads 1 [--reuse]
"""
import argparse
import os
import random
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../reference"))
import lm_reference as reference  # noqa: E402
from torch_lm import DATA, SmolLM  # noqa: E402

INSTRUCTIONS = ["Classify the sentiment of the tweet as positive or negative.", "Is the author of this tweet happy or sad?"]
VERBALIZERS = [[" negative", " positive"]]
TEMPLATE = "Tweet: {text}\nSentiment:"


def load_tweets():
    rows = [line.split("\t", 1) for line in open(os.path.join(DATA, "text", "vader-tweets.tsv"), encoding="utf-8").read().splitlines()]
    classes = sorted({label for label, _ in rows})
    random.Random(7).shuffle(rows)
    return [(classes.index(label), text) for label, text in rows]


def reference_values():
    import json
    return json.load(open(os.path.join(os.path.dirname(__file__), "../../../Tests/Fixtures/lm-reference.json")))["smollm2"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--texts", type=int, default=60)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    model = SmolLM()
    ref = reference_values()
    assert model.generate(ref["logit_prompt_ids"], 8) == ref["greedy"]["The capital of France is"]["ids"], "the peer does not match the reference"
    meta, _ = reference.read_gguf(os.path.join(DATA, "smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    tokenizer = reference.BPETokenizer(meta)
    rows = load_tweets()
    texts, pool = rows[: args.texts], rows[args.texts:]

    def cut(text):
        ids = tokenizer.encode_plain(text)
        return text if len(ids) <= 64 else tokenizer.decode(ids[:64])

    demonstrations = [next(r for r in pool if r[0] == c) for c in (0, 1)] + [[r for r in pool if r[0] == c][1] for c in (0, 1)]
    prompts = []
    for instruction in INSTRUCTIONS:
        for words in VERBALIZERS:
            for shown in ([], demonstrations):
                prefix = instruction + "\n\n" + "".join(TEMPLATE.replace("{text}", cut(t)) + words[label] + "\n\n" for label, t in shown)
                prompts.append((tokenizer.encode(prefix), [tokenizer.encode_plain(w) for w in words]))
    contexts = [tokenizer.encode(TEMPLATE.replace("{text}", cut(t))) for _, t in texts]

    def continuation_scores(cache, last, words):
        first = torch.log_softmax(model.logits(last), -1)
        scores = []
        for word in words:
            total, branch = float(first[word[0]]), list(cache)
            for previous, token in zip(word, word[1:]):
                hidden = model.forward([previous], branch)
                total += float(torch.log_softmax(model.logits(hidden[-1]), -1)[token])
            scores.append(total)
        return scores

    start = time.perf_counter()
    evaluations = 0
    for prefix, words in prompts:
        shared = [None] * model.layers
        if args.reuse:
            model.forward(prefix, shared)
        for context in contexts:
            if args.reuse:
                cache = list(shared)
                last = model.forward(context, cache)[-1]
            else:
                cache = [None] * model.layers
                last = model.forward(prefix + context, cache)[-1]
            continuation_scores(cache, last, words)
            evaluations += 1
    seconds = time.perf_counter() - start
    print(f"torch {'reuse' if args.reuse else 'recompute'} prefix, {args.threads} thread(s): {evaluations} evaluations in {seconds:.1f} s, {evaluations / seconds:.2f} evaluations/s")


if __name__ == "__main__":
    main()
