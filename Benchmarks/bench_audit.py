#!/usr/bin/env python3
"""`discern audit` throughput and memory, in one run: messages per second over a whole corpus file,
rules-only and with the int8 student encoder, on the given threads, with peak memory; then peak
memory as the input grows from 10k to 100k records (texts of the same file repeated with new ids),
which a streaming audit keeps flat.

    python3 Benchmarks/bench_audit.py --discern .build/release/discern \
        --corpus ../shared/data/corpus/suicidal_keyword_tweets.jsonl [--threads 2] [--fused-memory]

Wall time includes process start and loading (about 0.04 s rules-only, 0.2 s with the encoder), so
rates are conservative; each mode runs --runs times and the median is reported. Output goes
to a temporary file (the records are written, as in real use).
"""
import argparse
import json
import os
import subprocess
import tempfile
import time


def run(discern, input_path, out_path, threads, rules_only):
    """One audit: records written, wall seconds, peak RSS in MB."""
    command = ["/usr/bin/time", "-f", "%M", discern, "audit", input_path, "--out", out_path, "--threads", str(threads)]
    if rules_only:
        command.append("--rules-only")
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    peak_kb = int(result.stderr.strip().splitlines()[-1])
    with open(out_path) as f:
        records = sum(1 for _ in f)
    return records, seconds, peak_kb / 1024


def grown(texts, count, path):
    with open(path, "w") as f:
        for i in range(count):
            f.write(json.dumps({"id": f"m{i}", "text": texts[i % len(texts)]}) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--discern", default=".build/release/discern")
    parser.add_argument("--corpus", default="../shared/data/corpus/suicidal_keyword_tweets.jsonl")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fused-memory", action="store_true", help="also grow the input for the encoder run (slow)")
    parser.add_argument("--rules-only", action="store_true", help="measure the rules-only audit alone (quick)")
    parser.add_argument("--runs", type=int, default=5, help="runs per mode; the median is reported (this machine is noisy)")
    args = parser.parse_args()
    if not os.path.exists(args.corpus):
        print(f"skipped: {args.corpus} is absent (the corpus lives in ../shared/data)")
        return
    with tempfile.TemporaryDirectory() as work:
        out = os.path.join(work, "out.jsonl")
        print(f"`discern audit` on {os.path.basename(args.corpus)}, {args.threads} threads")
        print()
        print(f"| mode | records | median seconds ({args.runs} runs) | messages/s (median) | slowest – fastest run | peak RSS |")
        print("|---|---|---|---|---|---|")
        for name, rules_only in [("rules only", True), ("rules + int8 student encoder", False)][: 1 if args.rules_only else 2]:
            runs = [run(args.discern, args.corpus, out, args.threads, rules_only) for _ in range(args.runs)]
            records = runs[0][0]
            times = sorted(seconds for _, seconds, _ in runs)
            median = times[len(times) // 2]
            peak = max(p for _, _, p in runs)
            print(f"| {name} | {records:,} | {median:.2f} | {records / median:,.0f} | {records / times[-1]:,.0f} – {records / times[0]:,.0f} | {peak:.0f} MB |")
        texts = [json.loads(line)["text"] for line in open(args.corpus)]
        print()
        print("Peak memory as the input grows (a streaming audit stays flat):")
        print()
        print("| mode | 10k records | 100k records |")
        print("|---|---|---|")
        modes = [("rules only", True)] + ([("rules + int8 student encoder", False)] if args.fused_memory else [])
        for name, rules_only in modes:
            peaks = []
            for count in (10_000, 100_000):
                path = os.path.join(work, f"in-{count}.jsonl")
                grown(texts, count, path)
                records, _, peak = run(args.discern, path, out, args.threads, rules_only)
                assert records == count, f"{records} records for {count} inputs"
                peaks.append(peak)
            print(f"| {name} | {peaks[0]:.0f} MB | {peaks[1]:.0f} MB |")


if __name__ == "__main__":
    main()
