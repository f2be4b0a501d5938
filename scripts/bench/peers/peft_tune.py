"""Hugging Face PEFT 0.21 (transformers 5.23, PyTorch CPU) on the rows `orrery bench
prompt-tune` measures: all-MiniLM-L6-v2 loaded by transformers' BertModel from the same
model.safetensors and config.json, then tuned by PEFT's prompt tuning (8 virtual tokens)
or LoRA (rank 8, alpha 16, query and value, no dropout). One step: forward of 16 sequences
of 32 token ids, mean pooling over the real tokens (the prompt's included) and L2
normalization, cosine logits (x20) against 4 fixed class vectors, cross-entropy, backward,
Adam at 1e-3 — as Orrery's step. Steps/s, the median of --repeats runs of 10 steps after
a warm-up.

    .venv-peers/bin/python scripts/bench/peers/peft_tune.py --threads 1 --json
    .venv-peers/bin/python scripts/bench/peers/peft_tune.py --threads 1 --memory
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


def resident(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def peak_during(body):
    """Peak resident bytes while body runs, the peak reset first (/proc/self/clear_refs)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    body()
    return resident("VmHWM:")


def memory():
    """Resident memory with the model loaded, and the peaks during 3 inference passes and
    during 3 prompt-tuning steps on the same batch: `orrery bench prompt-tune --memory`."""
    model = get_peft_model(load_minilm(), PromptTuningConfig(task_type=TaskType.FEATURE_EXTRACTION, num_virtual_tokens=PROMPT))
    ids, mask, targets = batch()
    classes = F.normalize(torch.randn(CLASSES, 384, generator=torch.Generator().manual_seed(1)), dim=-1)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    loaded = resident("VmRSS:")

    def infer():
        with torch.no_grad():
            for _ in range(3):
                model(input_ids=ids, attention_mask=mask)

    def tune():
        for _ in range(3):
            optimizer.zero_grad()
            sentence = F.normalize(model(input_ids=ids, attention_mask=mask).last_hidden_state.mean(dim=1), dim=-1)
            F.cross_entropy(sentence @ classes.T * 20, targets).backward()
            optimizer.step()

    inference, tuning = peak_during(infer), peak_during(tune)
    mib = 1 << 20
    print(f"resident memory: {loaded / mib:.0f} MiB with the model loaded; peak {inference / mib:.0f} MiB during inference, "
          f"{tuning / mib:.0f} MiB during tuning: tuning/inference {tuning / inference:.2f}x (process), "
          f"{(tuning - loaded) / max(1, inference - loaded):.2f}x (above the loaded model)")


def main():
    args = arguments(lambda parser: parser.add_argument("--memory", action="store_true", help="peak memory of tuning against inference"))
    if args.memory:
        return memory()
    cases = [
        ("minilm soft prompt, 16 x 32 tokens, P 8", "steps/s", steps_per_second("soft-prompt")),
        ("minilm lora q+v r8, 16 x 32 tokens", "steps/s", steps_per_second("lora")),
    ]
    report(measure_all(cases, args), args.json)


if __name__ == "__main__":
    main()
