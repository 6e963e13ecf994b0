#!/usr/bin/env python3
"""Discern's encoder against its peers, in one run on this machine.

Peers: sentence-transformers (PyTorch) and ONNX Runtime fp32 and int8 (dynamic quantization, per
output channel, QInt8 weights: ORT's standard recipe), on the 6-layer base; and ONNX Runtime fp32 and
int8 on the shipped distilled student (same layers and heads; Benchmarks/export_onnx.py exports it and
checks it against Discern's fp32 student first). All compute the same thing: token ids in, mean-pooled
L2-normalised embedding out. Tokenization is left out of every timing.

For 32 and 128 tokens, batch 1, 1 and 2 threads: the median latency per message. For batch 32 of
32-token messages: messages per second. Then each Discern figure as a ratio to each peer.

    python Benchmarks/bench_encoder.py --encoder .models/all-MiniLM-L6-v2 \
        --bench .build/release/discern-bench --discern .build/debug/discern [--runs 100] [--work .models/onnx] \
        [--blas-cores Prescott]

`--blas-cores` adds a Discern fp32 row per OpenBLAS core type named (OPENBLAS_CORETYPE set for that
process), e.g. the Prescott (SSE3) kernels an OpenBLAS too old for its CPU falls back to.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import export_onnx


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


def discern(bench, encoder_dir, precision, threads, tokens, batch, runs, tuned=None, blas_core=None):
    command = [bench, "encoder", "--encoder", encoder_dir, "--precision", precision, "--threads", str(threads),
               "--tokens", str(tokens), "--batch", str(batch), "--runs", str(runs)] + (["--tuned", tuned] if tuned else [])
    environment = dict(os.environ, OPENBLAS_CORETYPE=blas_core) if blas_core else None
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True, env=environment).stdout)


def machine_header(bench, encoder_dir):
    """The CPU, the flags that decide which kernels run, OpenBLAS's core type, ORT's version."""
    import onnxruntime

    model, flags = "unknown CPU", set()
    if os.path.exists("/proc/cpuinfo"):
        for line in open("/proc/cpuinfo"):
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model == "unknown CPU":
                model = value.strip()
            if key.strip() == "flags" and not flags:
                flags = set(value.split())
    wanted = ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8"]
    core = discern(bench, encoder_dir, "fp32", 1, 8, 1, 1)["blas_core"]
    return (f"CPU: {model}, {os.cpu_count()} cores; flags: {' '.join(f for f in wanted if f in flags) or 'none of ' + ' '.join(wanted)}\n"
            f"OpenBLAS core type: {core}{' (OPENBLAS_CORETYPE set by the user)' if os.environ.get('OPENBLAS_CORETYPE') else ''}; "
            f"ONNX Runtime {onnxruntime.__version__}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", default=".models/all-MiniLM-L6-v2")
    parser.add_argument("--bench", default=".build/release/discern-bench")
    parser.add_argument("--discern", default=".build/debug/discern",
                        help="the discern binary the exported student is checked against")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--work", default=".models/onnx")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--tuned", default="Models/default/encoder",
                        help="the distilled student's folder (measured beside the base); '' to skip")
    parser.add_argument("--blas-cores", default="", help="comma-separated OpenBLAS core types for extra Discern fp32 rows")
    args = parser.parse_args()
    student = args.tuned if args.tuned and os.path.exists(os.path.join(args.tuned, "config.json")) else None
    cores = [core for core in args.blas_cores.split(",") if core]

    base_fp32, base_int8 = export_onnx.export(args.encoder, args.work)
    peers = [("ONNX Runtime fp32", base_fp32), ("ONNX Runtime int8", base_int8)]
    # Discern rows: (name, precision, tuned folder, OpenBLAS core type or None).
    ours = [("Discern fp32", "fp32", None, None), ("Discern int8", "int8", None, None)]
    ours += [(f"Discern fp32, OpenBLAS {core}", "fp32", None, core) for core in cores]
    if student:
        fp32, int8 = export_onnx.export_and_check(args.encoder, args.work, student, args.discern)
        ours += [("Discern student fp32", "fp32", student, None), ("Discern student int8", "int8", student, None)]
        peers += [("ONNX Runtime student fp32", fp32), ("ONNX Runtime student int8", int8)]
    ours_names = [name for name, *_ in ours]
    engines = ours_names + [name for name, _ in peers] + ["sentence-transformers"]
    columns = [("32 tok, 1 thr", 32, 1, 1), ("32 tok, 2 thr", 32, 2, 1), ("128 tok, 1 thr", 128, 1, 1),
               ("128 tok, 2 thr", 128, 2, 1), ("batch 32, 1 thr", 32, 1, 32), ("batch 32, 2 thr", 32, 2, 32)]
    figures = {engine: {} for engine in engines}
    memory, load = {}, {}
    header = machine_header(args.bench, args.encoder)
    for title, tokens, threads, batch in columns:
        runs = args.runs if batch == 1 else max(10, args.runs // 10)
        ids = hello_ids(args.encoder, tokens, batch)
        # Engines run back to back for each column, so drift on this shared machine hits all alike.
        for name, precision, tuned, core in ours:
            result = discern(args.bench, args.encoder, precision, threads, tokens, batch, runs, tuned, core)
            figures[name][title] = result["median_ms"]
            memory[name] = max(memory.get(name, 0), result["peak_rss_mb"])
            load[name] = max(load.get(name, 0), result["load_seconds"])
        for name, path in peers:
            figures[name][title] = median_ms(ort_runner(path, threads)(ids), runs)
        figures["sentence-transformers"][title] = median_ms(torch_runner(args.encoder, threads)(ids), runs)
        print(f"measured {title}", file=sys.stderr)

    def cell(engine, title, batch):
        ms = figures[engine][title]
        return f"{batch * 1000 / ms:,.0f} msg/s" if batch > 1 else f"{ms:.2f} ms"

    def ratio_cells(mine, peer):
        cells = []
        for title, _, _, batch in columns:
            ratio = figures[mine][title] / figures[peer][title]
            cells.append(f"{1 / ratio:.2f}×" if batch > 1 else f"{ratio:.2f}×")
        return " | ".join(cells)

    print(header)
    print()
    print("| engine | " + " | ".join(title for title, *_ in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for engine in engines:
        print(f"| {engine} | " + " | ".join(cell(engine, title, batch) for title, _, _, batch in columns) + " |")
    print()
    print("Latency ratios (Discern ÷ peer; below 1 is faster), and throughput ratios (Discern ÷ peer; above 1 is faster),")
    print("each Discern row against the peers running the same model:")
    print()
    print("| Discern vs peer | " + " | ".join(title for title, *_ in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for mine, _, tuned, _ in ours:
        same_model = [name for name, _ in peers if ("student" in name) == bool(tuned)]
        for peer in same_model + ([] if tuned else ["sentence-transformers"]):
            print(f"| {mine} vs {peer} | " + ratio_cells(mine, peer) + " |")
    print()
    if student:
        print(f"The distilled student ({student}) against the 6-layer base, both in Discern "
              "(latency ratio; below 1 is faster; batch columns as throughput ratio, above 1 is faster):")
        print()
        print("| student vs base | " + " | ".join(title for title, *_ in columns) + " |")
        print("|---" * (len(columns) + 1) + "|")
        for precision in ["fp32", "int8"]:
            print(f"| {precision} | " + ratio_cells(f"Discern student {precision}", f"Discern {precision}") + " |")
        print()
    print("Peak resident memory of the Discern process: " + ", ".join(f"{k} {v:.0f} MB" for k, v in memory.items()))
    print("Slowest model load: " + ", ".join(f"{k} {v:.2f} s" for k, v in load.items()))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"machine": header, "latency_ms": figures, "peak_rss_mb": memory, "load_seconds": load}, out, indent=2)


if __name__ == "__main__":
    main()
