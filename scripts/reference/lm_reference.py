#!/usr/bin/env python3
"""Reference values for Orrery's pretrained language models, from numpy alone.

An independent second implementation of what `Sources/LanguageModels` does: it reads the
same files that `scripts/fetch-data` puts in the cache (all-MiniLM-L6-v2's safetensors and
vocab.txt, SmolLM2-135M-Instruct's GGUF), tokenizes, runs both models in float32 and writes
the small JSON that `Tests/LanguageModelsTests` compare against. It imports nothing but
numpy and the standard library, so it shares no code (and no bug) with PyTorch or Orrery.

    python3 scripts/reference/lm_reference.py [--data DIR] [--out Tests/Fixtures/lm-reference.json]
"""
import argparse
import json
import math
import os
import struct
import unicodedata

import numpy as np

# ---------------------------------------------------------------------------- safetensors


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (length,) = struct.unpack_from("<Q", blob, 0)
    header = json.loads(blob[8 : 8 + length])
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[entry["dtype"]]
        tensors[name] = np.frombuffer(blob, dtype=dtype, count=(end - start) // np.dtype(dtype).itemsize,
                                      offset=8 + length + start).reshape(entry["shape"])
    return tensors


# ---------------------------------------------------------------------------- WordPiece


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def bert_basic_tokens(text):
    cleaned = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD:
            continue
        if ch in "\t\n\r" or unicodedata.category(ch) == "Zs":
            cleaned.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf"):
            continue
        elif is_cjk(cp):
            cleaned.append(" " + ch + " ")
        else:
            cleaned.append(ch)
    words = []
    for word in "".join(cleaned).split():
        word = "".join(c for c in unicodedata.normalize("NFD", word.lower()) if unicodedata.category(c) != "Mn")
        current = ""
        for ch in word:
            if is_punctuation(ch):
                if current:
                    words.append(current)
                words.append(ch)
                current = ""
            else:
                current += ch
        if current:
            words.append(current)
    return words


def wordpiece(words, vocab):
    ids = []
    for word in words:
        if len(word) > 100:
            ids.append(vocab["[UNK]"])
            continue
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = ("##" if start > 0 else "") + word[start:end]
                if piece in vocab:
                    break
                end -= 1
            if end == start:
                pieces = [vocab["[UNK]"]]
                break
            pieces.append(vocab[piece])
            start = end
        ids.extend(pieces)
    return ids


def bert_encode(text, vocab, max_length=256):
    ids = wordpiece(bert_basic_tokens(text), vocab)[: max_length - 2]
    return [vocab["[CLS]"]] + ids + [vocab["[SEP]"]]


# ---------------------------------------------------------------------------- MiniLM


def layer_norm(x, weight, bias, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def gelu_erf(x):
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return (0.5 * x * (1 + erf(x / math.sqrt(2)))).astype(np.float32)


def minilm_embed(sentences, weights, vocab):
    ids = [bert_encode(s, vocab) for s in sentences]
    length = max(len(i) for i in ids)
    batch = len(ids)
    tokens = np.zeros((batch, length), dtype=np.int64)
    mask = np.zeros((batch, length), dtype=np.float32)
    for b, row in enumerate(ids):
        tokens[b, : len(row)] = row
        mask[b, : len(row)] = 1
    w = weights
    x = w["embeddings.word_embeddings.weight"][tokens] + w["embeddings.position_embeddings.weight"][:length][None] \
        + w["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], 1e-12)
    heads, width = 12, 384
    d = width // heads
    additive = (1 - mask)[:, None, None, :] * -1e9
    for layer in range(6):
        p = f"encoder.layer.{layer}."
        def linear(t, name):
            return t @ w[p + name + ".weight"].T + w[p + name + ".bias"]
        def split(t):
            return t.reshape(batch, length, heads, d).transpose(0, 2, 1, 3)
        q, k, v = (split(linear(x, f"attention.self.{n}")) for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d) + additive
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        probs = scores / scores.sum(-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
        x = layer_norm(x + linear(context, "attention.output.dense"), w[p + "attention.output.LayerNorm.weight"],
                       w[p + "attention.output.LayerNorm.bias"], 1e-12)
        hidden = gelu_erf(linear(x, "intermediate.dense"))
        x = layer_norm(x + linear(hidden, "output.dense"), w[p + "output.LayerNorm.weight"],
                       w[p + "output.LayerNorm.bias"], 1e-12)
    pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
    return ids, pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


# ---------------------------------------------------------------------------- GGUF


def read_gguf(path):
    with open(path, "rb") as f:
        blob = f.read()
    pos = 0

    def take(fmt):
        nonlocal pos
        (value,) = struct.unpack_from("<" + fmt, blob, pos)
        pos += struct.calcsize("<" + fmt)
        return value

    def string():
        nonlocal pos
        n = take("Q")
        s = blob[pos : pos + n].decode("utf-8")
        pos += n
        return s

    scalars = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(kind):
        if kind in scalars:
            return take(scalars[kind])
        if kind == 8:
            return string()
        if kind == 9:
            element, count = take("I"), take("Q")
            return [value(element) for _ in range(count)]
        raise ValueError(f"unknown GGUF value type {kind}")

    assert blob[:4] == b"GGUF"
    pos = 4
    version, tensor_count, kv_count = take("I"), take("Q"), take("Q")
    assert version == 3
    meta = {}
    for _ in range(kv_count):
        key = string()
        meta[key] = value(take("I"))
    infos = []
    for _ in range(tensor_count):
        name = string()
        dims = [take("Q") for _ in range(take("I"))]
        infos.append((name, dims, take("I"), take("Q")))
    alignment = meta.get("general.alignment", 32)
    data_start = (pos + alignment - 1) // alignment * alignment
    tensors = {}
    for name, dims, kind, offset in infos:
        count = int(np.prod(dims))
        start = data_start + offset
        rows = count // dims[0]
        if kind == 0:  # F32
            values = np.frombuffer(blob, np.float32, count, start)
        elif kind == 8:  # Q8_0: fp16 d, 32 × int8
            blocks = np.frombuffer(blob, np.uint8, count // 32 * 34, start).reshape(-1, 34)
            d = blocks[:, :2].copy().view(np.float16).astype(np.float32)
            q = blocks[:, 2:].copy().view(np.int8).astype(np.float32)
            values = (q * d).reshape(-1)
        elif kind == 3:  # Q4_1: fp16 d, fp16 m, 16 bytes of nibbles
            blocks = np.frombuffer(blob, np.uint8, count // 32 * 20, start).reshape(-1, 20)
            d = blocks[:, 0:2].copy().view(np.float16).astype(np.float32)
            m = blocks[:, 2:4].copy().view(np.float16).astype(np.float32)
            nibbles = blocks[:, 4:]
            q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32)
            values = (q * d + m).reshape(-1)
        else:
            raise ValueError(f"{name}: unsupported ggml type {kind}")
        # GGUF lists dimensions fastest-first: [576, 1536] is 1536 rows of 576.
        tensors[name] = values.reshape(list(reversed(dims))) if len(dims) > 1 else values.reshape(rows * dims[0])
    return meta, tensors


# ---------------------------------------------------------------------------- byte-level BPE


def byte_to_unicode():
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = keep[:]
    extra = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(keep, chars)}


def char_class(ch):
    if ch.isspace():
        return "space"
    category = unicodedata.category(ch)
    if category.startswith("L"):
        return "letter"
    if category.startswith("N"):
        return "number"
    return "other"


def pretokenize(text):
    """SmolLM's pre-tokenizer: every digit alone, then GPT-2's split
    ('s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+)."""
    pieces = []
    for chunk in split_digits(text):
        pieces.extend(gpt2_split(chunk))
    return pieces


def split_digits(text):
    out, current = [], ""
    for ch in text:
        if char_class(ch) == "number":
            if current:
                out.append(current)
            out.append(ch)
            current = ""
        else:
            current += ch
    if current:
        out.append(current)
    return out


def gpt2_split(text):
    out, i, n = [], 0, len(text)
    while i < n:
        if text[i] == "'":
            matched = next((c for c in ("s", "t", "re", "ve", "m", "ll", "d") if text.startswith(c, i + 1)), None)
            if matched:
                out.append(text[i : i + 1 + len(matched)])
                i += 1 + len(matched)
                continue
        start = i
        if text[i] == " " and i + 1 < n and char_class(text[i + 1]) != "space":
            i += 1
        kind = char_class(text[i])
        if kind != "space":
            while i < n and char_class(text[i]) == kind:
                i += 1
            out.append(text[start:i])
            continue
        end = i
        while end < n and char_class(text[end]) == "space":
            end += 1
        if end < n and end - i > 1:
            end -= 1
        out.append(text[i:end])
        i = end
    return out


class BPETokenizer:
    def __init__(self, meta):
        self.tokens = meta["tokenizer.ggml.tokens"]
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        self.ranks = {tuple(m.split(" ")): r for r, m in enumerate(meta["tokenizer.ggml.merges"])}
        kinds = meta["tokenizer.ggml.token_type"]
        self.special = sorted((t for t, k in zip(self.tokens, kinds) if k == 3), key=len, reverse=True)
        self.bytes = byte_to_unicode()

    def encode(self, text):
        ids, i, plain = [], 0, ""
        while i < len(text):
            special = next((s for s in self.special if text.startswith(s, i)), None)
            if special:
                ids.extend(self.encode_plain(plain))
                plain = ""
                ids.append(self.ids[special])
                i += len(special)
            else:
                plain += text[i]
                i += 1
        return ids + self.encode_plain(plain)

    def encode_plain(self, text):
        ids = []
        for piece in pretokenize(text):
            # Bytes the vocabulary cannot spell (SmolLM2 lacks 0x04 and 0x06) are dropped, as
            # Hugging Face's tokenizer drops them.
            symbols = [self.bytes[b] for b in piece.encode("utf-8") if self.bytes[b] in self.ids]
            while len(symbols) > 1:
                ranked = [(self.ranks.get((a, b), math.inf), k) for k, (a, b) in enumerate(zip(symbols, symbols[1:]))]
                rank, k = min(ranked)
                if rank == math.inf:
                    break
                symbols[k : k + 2] = [symbols[k] + symbols[k + 1]]
            ids.extend(self.ids[s] for s in symbols)
        return ids

    def decode(self, ids):
        inverse = {c: b for b, c in self.bytes.items()}
        out = bytearray()
        for i in ids:
            token = self.tokens[i]
            if token in self.special:
                out.extend(token.encode("utf-8"))
            else:
                out.extend(inverse[c] for c in token)
        return out.decode("utf-8", errors="replace")


def chat_prompt(user):
    return ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
            f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n")


# ---------------------------------------------------------------------------- SmolLM2


class Llama:
    def __init__(self, meta, tensors):
        self.w = tensors
        self.layers = meta["llama.block_count"]
        self.heads = meta["llama.attention.head_count"]
        self.kv_heads = meta["llama.attention.head_count_kv"]
        self.width = meta["llama.embedding_length"]
        self.head_dim = self.width // self.heads
        self.eps = meta["llama.attention.layer_norm_rms_epsilon"]
        base = meta["llama.rope.freq_base"]
        self.inv_freq = base ** (-np.arange(0, self.head_dim, 2, dtype=np.float64) / self.head_dim)

    def rms(self, x, weight):
        return (x / np.sqrt((x * x).mean(-1, keepdims=True) + self.eps) * weight).astype(np.float32)

    def rope(self, x, positions):
        # Adjacent pairs (x[2i], x[2i+1]) rotate by position · base^(−2i/d): llama.cpp's
        # converter permuted the Q and K weights into this layout.
        angles = positions[:, None] * self.inv_freq[None, :]
        cos, sin = np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)
        even, odd = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = even * cos - odd * sin
        out[..., 1::2] = even * sin + odd * cos
        return out

    def forward(self, tokens):
        """Logits [T, vocab] for one sequence."""
        w = self.w
        length = len(tokens)
        positions = np.arange(length, dtype=np.float64)
        x = w["token_embd.weight"][tokens]
        causal = np.triu(np.full((length, length), -np.inf, dtype=np.float32), 1)
        group = self.heads // self.kv_heads
        for layer in range(self.layers):
            p = f"blk.{layer}."
            h = self.rms(x, w[p + "attn_norm.weight"])
            q = (h @ w[p + "attn_q.weight"].T).reshape(length, self.heads, self.head_dim).transpose(1, 0, 2)
            k = (h @ w[p + "attn_k.weight"].T).reshape(length, self.kv_heads, self.head_dim).transpose(1, 0, 2)
            v = (h @ w[p + "attn_v.weight"].T).reshape(length, self.kv_heads, self.head_dim).transpose(1, 0, 2)
            q, k = self.rope(q, positions), self.rope(k, positions)
            k, v = np.repeat(k, group, axis=0), np.repeat(v, group, axis=0)
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(self.head_dim) + causal
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            probs = scores / scores.sum(-1, keepdims=True)
            context = (probs @ v).transpose(1, 0, 2).reshape(length, self.width)
            x = x + context @ w[p + "attn_output.weight"].T
            h = self.rms(x, w[p + "ffn_norm.weight"])
            gate = h @ w[p + "ffn_gate.weight"].T
            up = h @ w[p + "ffn_up.weight"].T
            x = x + (gate / (1 + np.exp(-gate)) * up) @ w[p + "ffn_down.weight"].T
        x = self.rms(x, w["output_norm.weight"])
        return x @ w.get("output.weight", w["token_embd.weight"]).T

    def greedy(self, tokens, count):
        tokens = list(tokens)
        for _ in range(count):
            tokens.append(int(np.argmax(self.forward(tokens)[-1])))
        return tokens

    def log_likelihood(self, prompt, continuation):
        logits = self.forward(prompt + continuation).astype(np.float64)
        total = 0.0
        for i, token in enumerate(continuation):
            row = logits[len(prompt) + i - 1]
            total += row[token] - (row.max() + np.log(np.exp(row - row.max()).sum()))
        return total


# ---------------------------------------------------------------------------- main

MINILM_SENTENCES = [
    "Hello, world!",
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The new movie is awesome!",
    "Café déjà vu — naïve résumé, don't stop 12,345 times?!",
]
BPE_TEXTS = [
    "The capital of France is",
    "One, two, three, four,",
    "Hello world! It's 2024, and we've got 3.14159 reasons   to code.\n\nNew line\ttab",
    "Café déjà vu — naïve résumé 😀",
    chat_prompt("What is 2+2?"),
]
LOGIT_PROMPT = "The capital of France is"
LIKELIHOOD_PROMPT = "Review: a thrilling, beautifully acted film.\nSentiment:"
LIKELIHOOD_CONTINUATIONS = [" positive", " negative", " great"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.environ.get("ORRERY_DATA", os.path.expanduser("~/.cache/orrery")))
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "../../Tests/Fixtures/lm-reference.json"))
    args = parser.parse_args()

    minilm_dir = os.path.join(args.data, "all-minilm-l6-v2")
    with open(os.path.join(minilm_dir, "vocab.txt"), encoding="utf-8") as f:
        vocab = {line.rstrip("\n"): i for i, line in enumerate(f)}
    weights = read_safetensors(os.path.join(minilm_dir, "model.safetensors"))
    ids, embeddings = minilm_embed(MINILM_SENTENCES, weights, vocab)
    minilm = {
        "sentences": MINILM_SENTENCES,
        "token_ids": ids,
        "embeddings": [[round(float(v), 7) for v in row] for row in embeddings],
        "cosine_food_bread": float(embeddings[1] @ embeddings[2]),
    }
    print("MiniLM cos(food, bread) =", minilm["cosine_food_bread"])

    meta, tensors = read_gguf(os.path.join(args.data, "smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    tokenizer = BPETokenizer(meta)
    model = Llama(meta, tensors)
    encodings = [tokenizer.encode(t) for t in BPE_TEXTS]
    for text, ids in zip(BPE_TEXTS, encodings):
        assert tokenizer.decode(ids) == text, (text, tokenizer.decode(ids))
    logit_ids = tokenizer.encode(LOGIT_PROMPT)
    logits = model.forward(logit_ids)
    last = logits[-1]
    top = np.argsort(-last)[:20]
    continuations = {}
    for prompt in ("The capital of France is", "One, two, three, four,"):
        prompt_ids = tokenizer.encode(prompt)
        generated = model.greedy(prompt_ids, 8)[len(prompt_ids):]
        continuations[prompt] = {"ids": generated, "text": tokenizer.decode(generated)}
        print(repr(prompt), "→", repr(tokenizer.decode(generated)))
    prompt_ids = tokenizer.encode(LIKELIHOOD_PROMPT)
    likelihoods = [model.log_likelihood(prompt_ids, tokenizer.encode(c)) for c in LIKELIHOOD_CONTINUATIONS]
    smollm = {
        "bpe_texts": BPE_TEXTS,
        "bpe_ids": encodings,
        "logit_prompt": LOGIT_PROMPT,
        "logit_prompt_ids": logit_ids,
        "last_logits_first_64": [round(float(v), 5) for v in last[:64]],
        "last_logits_top20": {"ids": [int(i) for i in top], "values": [round(float(last[i]), 5) for i in top]},
        "first_position_logits_first_64": [round(float(v), 5) for v in logits[0][:64]],
        "greedy": continuations,
        "likelihood_prompt": LIKELIHOOD_PROMPT,
        "likelihood_continuations": LIKELIHOOD_CONTINUATIONS,
        "log_likelihoods": likelihoods,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"minilm": minilm, "smollm2": smollm}, f, indent=1)
    print("wrote", os.path.abspath(args.out))


if __name__ == "__main__":
    main()
