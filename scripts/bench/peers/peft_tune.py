"""Hugging Face PEFT 0.21 (transformers 5.23, PyTorch CPU) on the rows `orrery bench
prompt-tune` measures: all-MiniLM-L6-v2 loaded by transformers' BertModel from the same
model.safetensors and config.json, then tuned by PEFT's prompt tuning (8 virtual tokens)
or LoRA (rank 8, alpha 16, query and value, no dropout). One step: forward of 16 sequences
of 32 token ids, mean pooling over the real tokens (the prompt's included) and L2
normalization, cosine logits (x20) against 4 fixed class vectors, cross-entropy, backward,
Adam at 1e-3 — as Orrery's step. Steps/s, the median of --repeats runs of 10 steps after
a warm-up.

    .venv-peers/bin/python scripts/bench/peers/peft_tune.py --threads 1 --json
"""
import os
import shutil
import tempfile
import time

import torch
import torch.nn.functional as F
from peft import LoraConfig, PromptTuningConfig, TaskType, get_peft_model
from transformers import BertConfig, BertModel

from peer_bench import arguments, measure_all, report

DATA = os.environ.get("ORRERY_DATA", os.path.expanduser("~/.cache/orrery"))
BATCH, TOKENS, PROMPT, RANK, CLASSES, STEPS = 16, 32, 8, 8, 4, 10


def load_minilm():
    source = os.path.join(DATA, "all-minilm-l6-v2")
    # transformers reads a directory: the same two files, nothing fetched.
    work = tempfile.mkdtemp()
    for name in ("config.json", "model.safetensors"):
        os.symlink(os.path.join(source, name), os.path.join(work, name))
    model = BertModel.from_pretrained(work, add_pooling_layer=False, attn_implementation="eager")
    shutil.rmtree(work)
    model.eval()
    return model


def batch():
    ids = torch.tensor([[101] + [2000 + (row * 7919 + i * 104_729) % 8000 for i in range(TOKENS - 2)] + [102] for row in range(BATCH)])
    return ids, torch.ones_like(ids), torch.arange(BATCH) % CLASSES


def steps_per_second(method):
    model = load_minilm()
    if method == "soft-prompt":
        model = get_peft_model(model, PromptTuningConfig(task_type=TaskType.FEATURE_EXTRACTION, num_virtual_tokens=PROMPT))
    else:
        model = get_peft_model(model, LoraConfig(r=RANK, lora_alpha=16, target_modules=["query", "value"], lora_dropout=0.0))
    ids, mask, targets = batch()
    generator = torch.Generator().manual_seed(1)
    classes = F.normalize(torch.randn(CLASSES, 384, generator=generator), dim=-1)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)

    def step():
        optimizer.zero_grad()
        hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
        # Every position is real (the prompt's too): mean over all of them.
        sentence = F.normalize(hidden.mean(dim=1), dim=-1)
        loss = F.cross_entropy(sentence @ classes.T * 20, targets)
        loss.backward()
        optimizer.step()

    def run():
        start = time.perf_counter()
        for _ in range(STEPS):
            step()
        return STEPS / (time.perf_counter() - start)

    return run


def main():
    args = arguments()
    cases = [
        ("minilm soft prompt, 16 x 32 tokens, P 8", "steps/s", steps_per_second("soft-prompt")),
        ("minilm lora q+v r8, 16 x 32 tokens", "steps/s", steps_per_second("lora")),
    ]
    report(measure_all(cases, args), args.json)


if __name__ == "__main__":
    main()
