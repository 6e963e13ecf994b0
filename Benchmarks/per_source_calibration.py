#!/usr/bin/env python3
"""Would calibrating per source fix the test ECE the shipped model misses? Runs `discern audit` over
every labeled dev and test row of the corpus, then per source file and label prints the test ECE
(15 bins) of the shipped calibration next to a Platt scaling fitted on that source's own annotated
dev rows (where it has at least 30, with both classes).

    python3 Benchmarks/per_source_calibration.py [--discern .build/release/discern] [--corpus DIR]

A reference check for a design decision, not a benchmark of speed; it takes about a minute.
"""
import argparse
import glob
import json
import math
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Annotations", "tools"))
from heldout import held_out_rows  # noqa: E402

HELD_OUT = held_out_rows()


def ece(probabilities, truth, bins=15):
    total = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i, p in enumerate(probabilities) if low <= p < high or (b == bins - 1 and p == 1.0)]
        if members:
            mean_p = sum(probabilities[i] for i in members) / len(members)
            rate = sum(truth[i] for i in members) / len(members)
            total += len(members) / len(probabilities) * abs(mean_p - rate)
    return total


def platt(logits, truth, iterations=100):
    """Newton's method on the log-loss of sigmoid(a·z + b)."""
    a, b = 1.0, 0.0
    for _ in range(iterations):
        ga = gb = 0.0
        haa = hab = hbb = 1e-9
        for z, y in zip(logits, truth):
            p = 1 / (1 + math.exp(-(a * z + b)))
            w = p * (1 - p)
            ga += (p - y) * z
            gb += p - y
            haa += w * z * z
            hab += w * z
            hbb += w
        det = haa * hbb - hab * hab
        a -= (hbb * ga - hab * gb) / det
        b -= (haa * gb - hab * ga) / det
    return a, b


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--discern", default=".build/release/discern")
    parser.add_argument("--corpus", default="../shared/data/corpus")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        records = os.path.join(work, "in.jsonl")
        with open(records, "w") as out:
            for path in sorted(glob.glob(os.path.join(args.corpus, "*.jsonl"))):
                source = os.path.basename(path)[: -len(".jsonl")]
                for line in open(path):
                    row = json.loads(line)
                    # Platt is fitted on dev rows: those behind the annotated test split are not among them.
                    if row["split"] == "dev" and row["id"] in HELD_OUT:
                        continue
                    if row["split"] in ("dev", "test") and any(v is not None for v in row["labels"].values()):
                        out.write(json.dumps({"id": row["id"], "text": row["text"], "source": source, "split": row["split"],
                                              "labels": row["labels"], "weak": row.get("weak", [])}) + "\n")
        decided = os.path.join(work, "out.jsonl")
        subprocess.run([args.discern, "audit", records, "--out", decided, "--threads", "2"], check=True, capture_output=True)
        data = defaultdict(lambda: defaultdict(list))
        for line in open(decided):
            record = json.loads(line)
            meta = record["metadata"]
            for label, truth in meta["labels"].items():
                if truth is None or label not in record["labels"]:
                    continue
                decision = record["labels"][label]
                data[(meta["source"], label)][meta["split"]].append(
                    (decision["logit"], decision["probability"], truth, label in meta["weak"]))
    print("test ECE (15 bins): the shipped calibration, and Platt scaling on the source's own annotated dev rows")
    print()
    print("| file | label | test rows (positive) | annotated dev rows | shipped | per source |")
    print("|---|---|---|---|---|---|")
    for (source, label), splits in sorted(data.items()):
        test = splits["test"]
        truth = [t for _, _, t, _ in test]
        if len(set(truth)) < 2:
            continue
        dev = [(z, t) for z, _, t, weak in splits["dev"] if not weak]
        per_source = "—"
        if len(dev) >= 30 and 0 < sum(t for _, t in dev) < len(dev):
            a, b = platt([z for z, _ in dev], [t for _, t in dev])
            per_source = f"{ece([1 / (1 + math.exp(-(a * z + b))) for z, _, _, _ in test], truth):.3f}"
        print(f"| {source} | {label} | {len(test)} ({sum(truth)}) | {len(dev)} | {ece([p for _, p, _, _ in test], truth):.3f} | {per_source} |")


if __name__ == "__main__":
    main()
