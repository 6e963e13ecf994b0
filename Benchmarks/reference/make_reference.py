#!/usr/bin/env python3
"""Reference outputs for Discern's encoder tests, from tools independent of Discern's Swift code.

- Token ids: Hugging Face `tokenizers` (the Rust tokenizer sentence-transformers uses) reading the
  model's own tokenizer.json, truncated at 128 tokens.
- Pooled embeddings: a plain numpy reimplementation of BERT (embeddings, 6 encoder layers, mean
  pooling, L2 normalisation) reading model.safetensors directly.

    python3 -m pip install tokenizers numpy
    python3 Benchmarks/reference/make_reference.py .models/all-MiniLM-L6-v2 Tests/Fixtures/encoder

Writes tokens.json and embeddings.json there; both are committed so `make test` needs no Python.
"""
import json
import math
import os
import struct
import sys

import numpy as np
from tokenizers import Tokenizer

MAX_LENGTH = 128
HERE = os.path.dirname(os.path.abspath(__file__))


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[info["dtype"]]
        tensors[name] = np.frombuffer(data[start:end], dtype=dtype).reshape(info["shape"])
    return tensors


def layer_norm(x, weight, bias, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def embed(t, ids, heads=12, layers=6):
    ids = np.array(ids)
    n = len(ids)
    x = t["embeddings.word_embeddings.weight"][ids] + t["embeddings.position_embeddings.weight"][:n] \
        + t["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"]).astype(np.float64)
    hidden = x.shape[1]
    d = hidden // heads
    for i in range(layers):
        p = f"encoder.layer.{i}."
        lin = lambda v, name: v @ t[p + name + ".weight"].T.astype(np.float64) + t[p + name + ".bias"]
        q = lin(x, "attention.self.query").reshape(n, heads, d).transpose(1, 0, 2)
        k = lin(x, "attention.self.key").reshape(n, heads, d).transpose(1, 0, 2)
        v = lin(x, "attention.self.value").reshape(n, heads, d).transpose(1, 0, 2)
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(1, 0, 2).reshape(n, hidden)
        x = layer_norm(lin(context, "attention.output.dense") + x,
                       t[p + "attention.output.LayerNorm.weight"], t[p + "attention.output.LayerNorm.bias"])
        h = gelu(lin(x, "intermediate.dense"))
        x = layer_norm(lin(h, "output.dense") + x, t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"])
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def main(model_dir, out_dir):
    strings = json.load(open(os.path.join(HERE, "strings.json"), encoding="utf-8"))
    tokenizer = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tokenizer.enable_truncation(MAX_LENGTH)
    tokenizer.no_padding()
    tokens = [{"text": s, "ids": tokenizer.encode(s).ids} for s in strings]
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "tokens.json"), "w", encoding="utf-8") as f:
        json.dump({"max_length": MAX_LENGTH, "cases": tokens}, f, ensure_ascii=False, indent=1)
    tensors = load_safetensors(os.path.join(model_dir, "model.safetensors"))
    embeddings = [{"text": c["text"], "embedding": [round(float(v), 7) for v in embed(tensors, c["ids"])]}
                  for c in tokens]
    with open(os.path.join(out_dir, "embeddings.json"), "w", encoding="utf-8") as f:
        json.dump(embeddings, f, ensure_ascii=False)
    print(f"wrote {len(tokens)} token cases and {len(embeddings)} embeddings to {out_dir}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
