#!/usr/bin/env python3
"""The ONNX Runtime peers of Discern's encoders: the 6-layer base and the shipped distilled student.

Each is exported from PyTorch with mean pooling and L2 normalisation inside the graph (token ids in,
the embedding Discern computes out), in fp32, then quantized to int8 by
onnxruntime.quantization.quantize_dynamic (per output channel, QInt8 weights: ORT's standard recipe).
The student is the base's embeddings under the tuned folder's transformer layers (Discern's `--tuned`),
with the same layers and heads. Exports are cached in `work` (never committed); a student's cache is
named by a hash of its weights and config, so a retrained student is exported again.

`check` compares the exported fp32 graph with Discern's own fp32 forward pass (`discern embed
--precision fp32`) on a few dozen messages and fails below a cosine of 0.9999:

    python Benchmarks/export_onnx.py --encoder .models/all-MiniLM-L6-v2 --tuned Models/default/encoder \
        --work .models/onnx --discern .build/debug/discern [--corpus ../shared/data/corpus]
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys

import numpy as np

# Messages for the check when no corpus is given: plain, varied lengths, no emoji (a glossed student
# would read emoji meanings that this script's tokenizer does not append).
NEUTRAL_MESSAGES = [
    "hello", "the train was late again this morning", "I finally finished the book you lent me",
    "can anyone recommend a good pizza place downtown?", "my cat knocked the plant off the shelf",
    "exams start next week and I have not started revising", "what a game last night, the keeper was unreal",
    "we are painting the kitchen yellow this weekend", "does this recipe work with oat milk instead",
    "the wifi keeps dropping every ten minutes, any ideas", "happy birthday to my little sister, twelve today",
    "I think the meeting moved to Thursday at three", "new phone, who dis", "that concert was loud but worth it",
    "my grandmother taught me how to knit scarves when I was seven years old and I still make one each winter",
    "is it normal for a laptop fan to be this noisy", "the museum is free on the first Sunday of the month",
    "ran five kilometres without stopping for the first time", "rain all week, of course, right when I am on holiday",
    "the bakery on the corner closed and I miss their rye bread", "how do you get candle wax out of a carpet",
    "our team shipped the release two days early", "the sunset over the harbour tonight was something else",
    "I keep forgetting to water the tomatoes", "looking for a used bike, nothing fancy, just for commuting",
    "Some days the bus is full, some days it is empty, and I never know which it will be until it arrives.",
    "the dentist said my teeth are fine, no fillings this year", "lol same", "ok", "thanks, that helped a lot",
    "the library extended its opening hours for the exam period", "who else is watching the eclipse tomorrow",
    "I made soup from whatever was left in the fridge and it was great",
]


def cache_key(student):
    digest = hashlib.sha256()
    for name in ["config.json", "model.safetensors"]:
        with open(os.path.join(student, name), "rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def load_student_layers(bert, student):
    """Replaces `bert`'s transformer layers with the tuned folder's (stored as float16 or float32)."""
    from safetensors.torch import load_file

    config = json.load(open(os.path.join(student, "config.json")))
    layers = config["num_hidden_layers"]
    for key in ["hidden_size", "num_attention_heads", "intermediate_size"]:
        if config[key] != getattr(bert.config, key):
            sys.exit(f"error: {student}/config.json: {key} is {config[key]}, the base's is {getattr(bert.config, key)}")
    tensors = {name: value.float() for name, value in load_file(os.path.join(student, "model.safetensors")).items()
               if name.startswith("encoder.layer.")}
    bert.encoder.layer = bert.encoder.layer[:layers]
    bert.config.num_hidden_layers = layers
    missing, unexpected = bert.load_state_dict(tensors, strict=False)
    missing = [name for name in missing if name.startswith("encoder.layer.")]
    if missing or unexpected:
        sys.exit(f"error: {student}/model.safetensors does not fit {layers} layers of the base: "
                 f"missing {missing[:3]}, unexpected {unexpected[:3]}")


def export(encoder_dir, work, student=None):
    """(fp32 path, int8 path) of the base, or of `student` over the base when given; cached in `work`."""
    folder = os.path.join(work, f"student-{cache_key(student)}") if student else work
    fp32, int8 = os.path.join(folder, "model.onnx"), os.path.join(folder, "model-int8.onnx")
    if os.path.exists(fp32) and os.path.exists(int8):
        return fp32, int8
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    os.makedirs(folder, exist_ok=True)

    class Pooled(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    bert = AutoModel.from_pretrained(encoder_dir)
    if student:
        load_student_layers(bert, student)
    model = Pooled(bert).eval()
    ids = torch.ones(1, 8, dtype=torch.long)
    torch.onnx.export(
        model, (ids, ids, torch.zeros_like(ids)), fp32, opset_version=17,
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["embedding"],
        dynamic_axes={name: {0: "batch", 1: "tokens"} for name in ["input_ids", "attention_mask", "token_type_ids"]},
    )
    quantize_dynamic(fp32, int8, per_channel=True, weight_type=QuantType.QInt8)
    return fp32, int8


def check_messages(corpus, count=48):
    """`count` messages: ASCII test-split texts of the corpus when given, else NEUTRAL_MESSAGES."""
    if not corpus:
        return NEUTRAL_MESSAGES
    texts, files = [], sorted(name for name in os.listdir(corpus) if name.endswith(".jsonl"))
    for name in files:
        taken = 0
        for line in open(os.path.join(corpus, name), encoding="utf-8"):
            row = json.loads(line)
            if taken < count // len(files) + 1 and row.get("split") == "test" and row["text"].isascii() and row["text"].strip():
                texts.append(row["text"])
                taken += 1
    return texts[:count]


def check(discern, encoder_dir, student, fp32_path, texts):
    """Cosines of the ONNX fp32 graph's embeddings to Discern's fp32 ones, one per message."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    command = [discern, "embed", "--precision", "fp32", "--threads", "1", "--encoder", encoder_dir, "--file", "-"]
    command += ["--tuned", student] if student else []
    lines = "".join(" ".join(text.split()) + "\n" for text in texts)
    done = subprocess.run(command, input=lines, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"error: {' '.join(command)} failed:\n{done.stderr}")
    records = [json.loads(line) for line in done.stdout.splitlines()]
    tokenizer = Tokenizer.from_file(os.path.join(encoder_dir, "tokenizer.json"))
    tokenizer.enable_truncation(128)
    tokenizer.no_padding()
    session = ort.InferenceSession(fp32_path, providers=["CPUExecutionProvider"])
    cosines = []
    for record in records:
        ids = np.array([tokenizer.encode(record["text"]).ids], dtype=np.int64)
        if ids.shape[1] != record["tokens"]:
            sys.exit(f"error: the tokenizers disagree on {record['text']!r}: {ids.shape[1]} tokens here, "
                     f"{record['tokens']} in Discern")
        theirs = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                    "token_type_ids": np.zeros_like(ids)})[0][0]
        ours = np.array(record["embedding"], dtype=np.float64)
        cosines.append(float(np.dot(theirs, ours) / (np.linalg.norm(theirs) * np.linalg.norm(ours))))
    return cosines


def export_and_check(encoder_dir, work, student, discern, corpus=None, threshold=0.9999):
    """The student's exports, after checking the fp32 one against Discern; exits when they differ."""
    fp32, int8 = export(encoder_dir, work, student)
    cosines = check(discern, encoder_dir, student, fp32, check_messages(corpus))
    worst = min(cosines)
    print(f"ONNX fp32 student vs Discern fp32 student: {len(cosines)} messages, cosine min {worst:.7f} "
          f"(1 − min = {1 - worst:.1e}), mean {sum(cosines) / len(cosines):.7f}", file=sys.stderr)
    if worst < threshold:
        sys.exit(f"error: the exported student ({fp32}) differs from Discern's (cosine {worst:.6f} < {threshold}); "
                 f"delete {os.path.dirname(fp32)} and export again")
    return fp32, int8


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", default=".models/all-MiniLM-L6-v2")
    parser.add_argument("--tuned", default="Models/default/encoder")
    parser.add_argument("--work", default=".models/onnx")
    parser.add_argument("--discern", default=".build/debug/discern")
    parser.add_argument("--corpus", help="check on ASCII test-split messages of this corpus folder")
    args = parser.parse_args()
    print(*export_and_check(args.encoder, args.work, args.tuned, args.discern, args.corpus))


if __name__ == "__main__":
    main()
