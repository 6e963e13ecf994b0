#!/usr/bin/env python3
"""Discern's encoder against its peers, in one run on this machine.

Peers: sentence-transformers (PyTorch) and ONNX Runtime fp32 and int8 (dynamic quantization, per
output channel, QInt8 weights: ORT's standard recipe). All compute the same thing: token ids in,
mean-pooled L2-normalised embedding out. Tokenization is left out of every timing.

For 32 and 128 tokens, batch 1, 1 and 2 threads: the median latency per message. For batch 32 of
32-token messages: messages per second. Then each Discern figure as a ratio to each peer.

    python Benchmarks/bench_encoder.py --encoder .models/all-MiniLM-L6-v2 \
        --bench .build/release/discern-bench [--runs 100] [--work .models/onnx]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np


def hello_ids(encoder_dir, tokens, batch):
    vocab = open(os.path.join(encoder_dir, "vocab.txt"), encoding="utf-8").read().split("\n")
    index = {word: i for i, word in enumerate(vocab)}
    ids = [index["[CLS]"]] + [index["hello"]] * (tokens - 2) + [index["[SEP]"]]
    return np.array([ids] * batch, dtype=np.int64)


def median_ms(call, runs, warmup=5):
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def export_onnx(encoder_dir, work):
    """fp32 graph exported from the PyTorch model with pooling and normalisation inside; int8 by
    onnxruntime.quantization.quantize_dynamic. Cached in `work`."""
    fp32, int8 = os.path.join(work, "model.onnx"), os.path.join(work, "model-int8.onnx")
    if os.path.exists(fp32) and os.path.exists(int8):
        return fp32, int8
    import torch
    from transformers import AutoModel
    from onnxruntime.quantization import QuantType, quantize_dynamic

    os.makedirs(work, exist_ok=True)

    class Pooled(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    model = Pooled(AutoModel.from_pretrained(encoder_dir)).eval()
    ids = torch.ones(1, 8, dtype=torch.long)
    torch.onnx.export(
        model, (ids, ids, torch.zeros_like(ids)), fp32, opset_version=17,
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["embedding"],
        dynamic_axes={name: {0: "batch", 1: "tokens"} for name in ["input_ids", "attention_mask", "token_type_ids"]},
    )
    quantize_dynamic(fp32, int8, per_channel=True, weight_type=QuantType.QInt8)
    return fp32, int8


def ort_runner(path, threads):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

    def make(ids):
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        return lambda: session.run(None, feeds)

    return make


def torch_runner(encoder_dir, threads):
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    model = SentenceTransformer(encoder_dir, device="cpu")

    def make(ids):
        tensor = torch.from_numpy(ids)
        features = {"input_ids": tensor, "attention_mask": torch.ones_like(tensor), "token_type_ids": torch.zeros_like(tensor)}

        def call():
            with torch.inference_mode():
                model(dict(features))

        return call

    return make


def discern(bench, encoder_dir, precision, threads, tokens, batch, runs, tuned=None):
    command = [bench, "encoder", "--encoder", encoder_dir, "--precision", precision, "--threads", str(threads),
               "--tokens", str(tokens), "--batch", str(batch), "--runs", str(runs)] + (["--tuned", tuned] if tuned else [])
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", default=".models/all-MiniLM-L6-v2")
    parser.add_argument("--bench", default=".build/release/discern-bench")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--work", default=".models/onnx")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--tuned", default="Models/default/encoder",
                        help="the distilled student's folder (measured beside the base); '' to skip")
    args = parser.parse_args()
    student = args.tuned if args.tuned and os.path.exists(os.path.join(args.tuned, "config.json")) else None

    fp32_path, int8_path = export_onnx(args.encoder, args.work)
    ours = ["Discern fp32", "Discern int8"] + (["Discern student fp32", "Discern student int8"] if student else [])
    engines = ours + ["ONNX Runtime fp32", "ONNX Runtime int8", "sentence-transformers"]
    columns = [("32 tok, 1 thr", 32, 1, 1), ("32 tok, 2 thr", 32, 2, 1), ("128 tok, 1 thr", 128, 1, 1),
               ("128 tok, 2 thr", 128, 2, 1), ("batch 32, 1 thr", 32, 1, 32), ("batch 32, 2 thr", 32, 2, 32)]
    figures = {engine: {} for engine in engines}
    memory, load = {}, {}
    for title, tokens, threads, batch in columns:
        runs = args.runs if batch == 1 else max(10, args.runs // 10)
        ids = hello_ids(args.encoder, tokens, batch)
        # Engines run back to back for each column, so drift on this shared machine hits all alike.
        for precision in ["fp32", "int8"]:
            for name, tuned in [(f"Discern {precision}", None)] + ([(f"Discern student {precision}", student)] if student else []):
                result = discern(args.bench, args.encoder, precision, threads, tokens, batch, runs, tuned)
                figures[name][title] = result["median_ms"]
                memory[name] = max(memory.get(name, 0), result["peak_rss_mb"])
                load[name] = max(load.get(name, 0), result["load_seconds"])
        for name, path in [("ONNX Runtime fp32", fp32_path), ("ONNX Runtime int8", int8_path)]:
            figures[name][title] = median_ms(ort_runner(path, threads)(ids), runs)
        figures["sentence-transformers"][title] = median_ms(torch_runner(args.encoder, threads)(ids), runs)
        print(f"measured {title}", file=sys.stderr)

    def cell(engine, title, batch):
        ms = figures[engine][title]
        return f"{batch * 1000 / ms:,.0f} msg/s" if batch > 1 else f"{ms:.2f} ms"

    print("| engine | " + " | ".join(title for title, *_ in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for engine in engines:
        print(f"| {engine} | " + " | ".join(cell(engine, title, batch) for title, _, _, batch in columns) + " |")
    print()
    print("Latency ratios (Discern ÷ peer; below 1 is faster), and throughput ratios (Discern ÷ peer; above 1 is faster):")
    print()
    print("| Discern vs peer | " + " | ".join(title for title, *_ in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for mine in ours:
        for peer in engines[len(ours):]:
            cells = []
            for title, _, _, batch in columns:
                ratio = figures[mine][title] / figures[peer][title]
                cells.append(f"{1 / ratio:.2f}×" if batch > 1 else f"{ratio:.2f}×")
            print(f"| {mine} vs {peer} | " + " | ".join(cells) + " |")
    print()
    if student:
        print(f"The distilled student ({student}) against the 6-layer base, both in Discern "
              "(latency ratio; below 1 is faster; batch columns as throughput ratio, above 1 is faster):")
        print()
        print("| student vs base | " + " | ".join(title for title, *_ in columns) + " |")
        print("|---" * (len(columns) + 1) + "|")
        for precision in ["fp32", "int8"]:
            cells = []
            for title, _, _, batch in columns:
                ratio = figures[f"Discern student {precision}"][title] / figures[f"Discern {precision}"][title]
                cells.append(f"{1 / ratio:.2f}×" if batch > 1 else f"{ratio:.2f}×")
            print(f"| {precision} | " + " | ".join(cells) + " |")
        print()
    print("Peak resident memory of the Discern process: " + ", ".join(f"{k} {v:.0f} MB" for k, v in memory.items()))
    print("Slowest model load: " + ", ".join(f"{k} {v:.2f} s" for k, v in load.items()))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"latency_ms": figures, "peak_rss_mb": memory, "load_seconds": load}, out, indent=2)


if __name__ == "__main__":
    main()
