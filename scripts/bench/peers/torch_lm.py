"""PyTorch CPU on the rows `orrery bench lm` measures, with the same models built in plain
torch from the same files: all-MiniLM-L6-v2 (safetensors) as a BERT encoder with mean
pooling and L2 normalization; SmolLM2-135M-Instruct (GGUF, dequantized to float32 by the
numpy reader in scripts/reference/lm_reference.py) as a Llama with a KV cache.

Rows: MiniLM sentences/s on 16 × 32 tokens; SmolLM2 prefill tokens/s on 128 tokens and
decode tokens/s for 64 greedy tokens after 32. Token ids are the same synthetic ids Orrery
uses. Threads: torch.set_num_threads(--threads). Medians of --repeats runs after a warm-up.
Before timing, the script checks that its models reproduce the reference values.

    .venv-peers/bin/python scripts/bench/peers/torch_lm.py --threads 1 --json
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../reference"))
import lm_reference as reference  # noqa: E402
from peer_bench import arguments, measure_all, report  # noqa: E402

DATA = os.environ.get("ORRERY_DATA", os.path.expanduser("~/.cache/orrery"))


def synthetic_ids(count, salt, vocabulary, first):
    return [first + ((i * 7919 + salt * 104_729) % (vocabulary - first)) for i in range(count)]


class MiniLM:
    def __init__(self):
        raw = reference.read_safetensors(os.path.join(DATA, "all-minilm-l6-v2", "model.safetensors"))
        self.w = {k: torch.from_numpy(np.array(v)) for k, v in raw.items()}

    @torch.no_grad()
    def embed(self, ids, lengths):
        w = self.w
        batch, length = ids.shape
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length] \
            + w["embeddings.token_type_embeddings.weight"][0]
        x = F.layer_norm(x, (384,), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], 1e-12)
        valid = torch.arange(length)[None, :] < lengths[:, None]
        mask = torch.zeros(batch, 1, 1, length).masked_fill(~valid[:, None, None, :], float("-inf"))
        for i in range(6):
            p = f"encoder.layer.{i}."
            lin = lambda t, n: F.linear(t, w[p + n + ".weight"], w[p + n + ".bias"])  # noqa: E731
            heads = lambda t: t.view(batch, length, 12, 32).transpose(1, 2)  # noqa: E731
            q, k, v = (heads(lin(x, f"attention.self.{n}")) for n in ("query", "key", "value"))
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask).transpose(1, 2).reshape(batch, length, 384)
            x = F.layer_norm(x + lin(context, "attention.output.dense"), (384,), w[p + "attention.output.LayerNorm.weight"],
                             w[p + "attention.output.LayerNorm.bias"], 1e-12)
            x = F.layer_norm(x + lin(F.gelu(lin(x, "intermediate.dense")), "output.dense"), (384,),
                             w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], 1e-12)
        pooled = (x * valid[:, :, None]).sum(1) / valid.sum(1, keepdim=True)
        return F.normalize(pooled, dim=-1)


class SmolLM:
    def __init__(self):
        meta, tensors = reference.read_gguf(os.path.join(DATA, "smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"))
        self.meta = meta
        self.w = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in tensors.items()}
        self.layers, self.heads, self.kv_heads = meta["llama.block_count"], meta["llama.attention.head_count"], meta["llama.attention.head_count_kv"]
        self.width = meta["llama.embedding_length"]
        self.head_dim = self.width // self.heads
        self.eps = meta["llama.attention.layer_norm_rms_epsilon"]
        self.inv_freq = meta["llama.rope.freq_base"] ** (-torch.arange(0, self.head_dim, 2, dtype=torch.float64) / self.head_dim)

    def rope(self, x, start):
        positions = torch.arange(start, start + x.shape[-2], dtype=torch.float64)
        angles = positions[:, None] * self.inv_freq[None, :]
        cos, sin = angles.cos().float(), angles.sin().float()
        even, odd = x[..., 0::2], x[..., 1::2]
        return torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1).flatten(-2)

    @torch.no_grad()
    def forward(self, tokens, cache):
        """Final hidden states [T, width] of new tokens after the cache; cache: list of (k, v)."""
        w = self.w
        length = len(tokens)
        past = cache[0][0].shape[1] if cache[0] is not None else 0
        x = w["token_embd.weight"][torch.tensor(tokens)]
        mask = None
        if length > 1:
            mask = torch.full((length, past + length), float("-inf")).triu(past + 1)
        for i in range(self.layers):
            p = f"blk.{i}."
            h = F.rms_norm(x, (self.width,), w[p + "attn_norm.weight"], self.eps)
            q = F.linear(h, w[p + "attn_q.weight"]).view(length, self.heads, self.head_dim).transpose(0, 1)
            k = F.linear(h, w[p + "attn_k.weight"]).view(length, self.kv_heads, self.head_dim).transpose(0, 1)
            v = F.linear(h, w[p + "attn_v.weight"]).view(length, self.kv_heads, self.head_dim).transpose(0, 1)
            q, k = self.rope(q, past), self.rope(k, past)
            if cache[i] is not None:
                k, v = torch.cat((cache[i][0], k), 1), torch.cat((cache[i][1], v), 1)
            cache[i] = (k, v)
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=True)
            x = x + F.linear(context.transpose(0, 1).reshape(length, self.width), w[p + "attn_output.weight"])
            h = F.rms_norm(x, (self.width,), w[p + "ffn_norm.weight"], self.eps)
            x = x + F.linear(F.silu(F.linear(h, w[p + "ffn_gate.weight"])) * F.linear(h, w[p + "ffn_up.weight"]), w[p + "ffn_down.weight"])
        return F.rms_norm(x, (self.width,), w["output_norm.weight"], self.eps)

    def logits(self, hidden):
        return F.linear(hidden, self.w.get("output.weight", self.w["token_embd.weight"]))

    def generate(self, tokens, count, on_first=None):
        cache = [None] * self.layers
        out, step = [], list(tokens)
        for n in range(count):
            token = int(self.logits(self.forward(step, cache)[-1]).argmax())
            if n == 0 and on_first:
                on_first()
            out.append(token)
            step = [token]
        return out


def check(minilm, smollm):
    """The peer's models reproduce the numpy reference (so the comparison is like for like)."""
    ref = json.load(open(os.path.join(os.path.dirname(__file__), "../../../Tests/Fixtures/lm-reference.json")))
    ids = ref["minilm"]["token_ids"]
    length = max(map(len, ids))
    padded = torch.tensor([row + [0] * (length - len(row)) for row in ids])
    embeddings = minilm.embed(padded, torch.tensor([len(r) for r in ids]))
    expected = torch.tensor(ref["minilm"]["embeddings"])
    assert (embeddings * expected).sum(-1).min() > 0.9999, "MiniLM peer does not match the reference"
    greedy = ref["smollm2"]["greedy"]["The capital of France is"]["ids"]
    assert smollm.generate(ref["smollm2"]["logit_prompt_ids"], 8) == greedy, "SmolLM2 peer does not match the reference"



def main():
    args = arguments()
    minilm, smollm = MiniLM(), SmolLM()
    check(minilm, smollm)

    sequences = torch.tensor([[101] + synthetic_ids(30, b, 30522, 1996) + [102] for b in range(16)])
    lengths = torch.full((16,), 32)

    def embed():
        start = time.perf_counter()
        for _ in range(4):
            minilm.embed(sequences, lengths)
        return 4 * 16 / (time.perf_counter() - start)

    prompt = synthetic_ids(128, 1, 49152, 17)

    def prefill():
        start = time.perf_counter()
        smollm.logits(smollm.forward(prompt, [None] * smollm.layers)[-1:])
        return 128 / (time.perf_counter() - start)

    def decode():
        marks = []
        smollm.generate(prompt[:32], 65, on_first=lambda: marks.append(time.perf_counter()))
        return 64 / (time.perf_counter() - marks[0])

    rows = measure_all([
        ("minilm embed, batch 16 x 32 tokens", "sentences/s", embed),
        ("smollm2 prefill, 128 tokens", "tokens/s", prefill),
        ("smollm2 decode, 64 tokens after 32", "tokens/s", decode),
    ], args)
    report(rows, args.json)


if __name__ == "__main__":
    main()
