"""A BERT encoder in plain PyTorch, laid out exactly as Discern's Swift encoder runs it.

Embeddings (word + position + token type 0, LayerNorm) come from the base model and stay frozen, so a
tuned encoder ships only its transformer layers and label heads. Pooling is the mean over tokens,
L2-normalised; each head is a logistic unit on that embedding (Discern's `LabelHeads`).
"""
import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file


# The span tagger's classes, in the order of its output rows (Discern's `TokenTagger` reads them from config.json).
TOKEN_TAGS = ["O", "B-casual_mention", "I-casual_mention", "B-serious_intent", "I-serious_intent"]


class Layer(nn.Module):
    def __init__(self, hidden, heads, intermediate, eps, dropout):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = (nn.Linear(hidden, hidden) for _ in range(3))
        self.attention_output = nn.Linear(hidden, hidden)
        self.attention_norm = nn.LayerNorm(hidden, eps=eps)
        self.intermediate = nn.Linear(hidden, intermediate)
        self.output = nn.Linear(intermediate, hidden)
        self.output_norm = nn.LayerNorm(hidden, eps=eps)
        self.dropout = dropout

    def forward(self, x, mask):
        b, t, h = x.shape
        d = h // self.heads

        def split(y):
            return y.view(b, t, self.heads, d).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        p = self.dropout if self.training else 0.0
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :], dropout_p=p)
        context = context.transpose(1, 2).reshape(b, t, h)
        attended = self.attention_norm(x + F.dropout(self.attention_output(context), p, self.training))
        hidden = F.gelu(self.intermediate(attended))
        return self.output_norm(attended + F.dropout(self.output(hidden), p, self.training))

    # Hugging Face names, which the Swift loader reads.
    NAMES = {
        "query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
        "attention_output": "attention.output.dense", "attention_norm": "attention.output.LayerNorm",
        "intermediate": "intermediate.dense", "output": "output.dense", "output_norm": "output.LayerNorm",
    }


class Encoder(nn.Module):
    """Frozen base embeddings, trainable layers, mean pooling, L2 normalisation, label heads."""

    def __init__(self, config, embeddings, layers, labels, dropout=0.1):
        super().__init__()
        h = config["hidden_size"]
        self.config = config
        self.labels = list(labels)
        # Buffers, not parameters: the base model's, shared with Discern at run time.
        self.register_buffer("word", embeddings["embeddings.word_embeddings.weight"])
        self.register_buffer("position", embeddings["embeddings.position_embeddings.weight"])
        self.register_buffer("token_type", embeddings["embeddings.token_type_embeddings.weight"][0])
        self.register_buffer("norm_weight", embeddings["embeddings.LayerNorm.weight"])
        self.register_buffer("norm_bias", embeddings["embeddings.LayerNorm.bias"])
        self.eps = config["layer_norm_eps"]
        self.layers = nn.ModuleList(
            Layer(h, config["num_attention_heads"], config["intermediate_size"], self.eps, dropout) for _ in range(layers))
        self.heads = nn.Linear(h, len(self.labels))
        # The span tagger: BIO over word pieces (TOKEN_TAGS), one linear layer over the last layer's tokens.
        self.tokens = nn.Linear(h, len(TOKEN_TAGS))
        self.dropout = dropout

    def pooled(self, ids, mask):
        t = ids.shape[1]
        x = self.word[ids] + self.position[:t] + self.token_type
        x = F.layer_norm(x, (x.shape[-1],), self.norm_weight, self.norm_bias, self.eps)
        x = F.dropout(x, self.dropout, self.training)
        self.hidden = []  # each layer's output, for hidden-state distillation
        for layer in self.layers:
            x = layer(x, mask)
            self.hidden.append(x)
        m = mask.unsqueeze(-1).to(x.dtype)
        mean = (x * m).sum(1) / m.sum(1).clamp(min=1)
        return F.normalize(mean, dim=-1)

    def forward(self, ids, mask):
        pooled = self.pooled(ids, mask)
        return self.heads(pooled), pooled

    def token_logits(self):
        """The span tagger's logits for the tokens of the last forward pass: [batch, tokens, tags]."""
        return self.tokens(self.hidden[-1])

    def load_layers(self, state, indices):
        """Copies layers `indices` of a Hugging Face-named state dict into this encoder's layers, in order."""
        for target, source in zip(self.layers, indices):
            for attr, name in Layer.NAMES.items():
                module = getattr(target, attr)
                module.weight.data.copy_(state[f"encoder.layer.{source}.{name}.weight"])
                module.bias.data.copy_(state[f"encoder.layer.{source}.{name}.bias"])

    def layer_tensors(self, dtype):
        out = {}
        for index, layer in enumerate(self.layers):
            for attr, name in Layer.NAMES.items():
                module = getattr(layer, attr)
                out[f"encoder.layer.{index}.{name}.weight"] = module.weight.detach().to(dtype).contiguous()
                out[f"encoder.layer.{index}.{name}.bias"] = module.bias.detach().to(dtype).contiguous()
        return out


def load_base(folder):
    """The base model's config and weights (Hugging Face names, any 'bert.' prefix dropped)."""
    with open(f"{folder}/config.json") as f:
        config = json.load(f)
    state = {k.removeprefix("bert."): v.float() for k, v in load_file(f"{folder}/model.safetensors").items()}
    return config, state


def fnv1a(chunks, value=0xCBF29CE484222325):
    for chunk in chunks:
        for byte in chunk:
            value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def fingerprint_blocks(data, value):
    """Discern's `dk_fingerprint_blocks`: each 64 KiB block hashed by FNV-1a over its little-endian
    8-byte words (then its tail bytes), each block's hash mixed into `value` byte by byte. The whole
    blocks are hashed together, one word position at a time (numpy wraps uint64 products)."""
    import numpy as np
    block, prime = 65536, np.uint64(0x100000001B3)
    whole = len(data) // block
    hashes = []
    if whole:
        words = np.frombuffer(data, dtype="<u8", count=whole * block // 8).reshape(whole, block // 8)
        h = np.full(whole, 0xCBF29CE484222325, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for column in range(words.shape[1]):
                h = (h ^ words[:, column]) * prime
        hashes = [int(x) for x in h]
    tail = data[whole * block:]
    if tail:
        h = 0xCBF29CE484222325
        n = len(tail) // 8 * 8
        for (word,) in struct.iter_unpack("<Q", tail[:n]):
            h = ((h ^ word) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
        hashes.append(fnv1a([tail[n:]], h))
    for h in hashes:
        value = fnv1a([h.to_bytes(8, "little")], value)
    return value


def safetensors_fingerprint(path, extra=b""):
    """Discern's `SafeTensorsFile.fingerprint(extra:)`: FNV-1a 64 over `extra`, then every byte of
    the file (fingerprint_blocks)."""
    with open(path, "rb") as f:
        data = f.read()
    return "fnv1a64:%x" % fingerprint_blocks(data, fnv1a([extra]))


def base_fingerprint(folder):
    """The base encoder's fingerprint: its config and vocabulary, then its weights."""
    with open(f"{folder}/config.json", "rb") as f:
        config = f.read()
    with open(f"{folder}/vocab.txt", "rb") as f:
        vocabulary = f.read()
    return safetensors_fingerprint(f"{folder}/model.safetensors", extra=config + vocabulary)


def export(encoder, folder, base_fingerprint, base_name, trained, metadata):
    """Writes `config.json` (naming the base it extends) and `model.safetensors` (layers in F16,
    heads in F32) — what `BertEncoder(folder:tuned:)` loads."""
    os.makedirs(folder, exist_ok=True)
    tensors = encoder.layer_tensors(torch.float16)
    # Only the heads of labels that had training rows: an untrained head's output means nothing.
    keep = [i for i, label in enumerate(encoder.labels) if label in trained]
    tensors["heads.weight"] = encoder.heads.weight.detach()[keep].float().contiguous()
    tensors["heads.bias"] = encoder.heads.bias.detach()[keep].float().contiguous()
    tensors["tokens.weight"] = encoder.tokens.weight.detach().float().contiguous()
    tensors["tokens.bias"] = encoder.tokens.bias.detach().float().contiguous()
    save_file(tensors, f"{folder}/model.safetensors", metadata={"format": "discern-tuned-1"})
    config = {
        "format": "discern-tuned-1",
        "base": {"name": base_name, "fingerprint": base_fingerprint},
        "num_hidden_layers": len(encoder.layers),
        "hidden_size": encoder.config["hidden_size"],
        "num_attention_heads": encoder.config["num_attention_heads"],
        "intermediate_size": encoder.config["intermediate_size"],
        "labels": [label for label in encoder.labels if label in trained],
        "token_tags": TOKEN_TAGS,
        **metadata,
    }
    with open(f"{folder}/config.json", "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
