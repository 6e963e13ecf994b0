#!/usr/bin/env python3
"""How sure is a test-split difference? A paired bootstrap over the same rows, for F1 and AUROC.

Scores one corpus file's annotated test rows with each model (`discern audit --model FOLDER`), in two
variants: fused (the audit's probability) and encoder-only (the model's own encoder-only line and
calibration from model.json applied to the audit's encoder logit). F1 is taken at each model's
suggested threshold (its best F1 on dev), as Training/compare.py does. Then it resamples the rows
with replacement (seeded) and prints each pair's difference with a 95% interval:

    python3 Benchmarks/paired_bootstrap.py \\
        --models student=Models/default,teacher=.models/compare/teacher \\
        --pairs teacher:fused-student:fused,student:fused-student:encoder

A difference whose interval holds 0 is one this test split cannot tell from chance.
"""
import argparse
import json
import math
import os
import random
import subprocess
import tempfile


def f1_at(probabilities, truth, threshold):
    tp = sum(1 for p, y in zip(probabilities, truth) if p >= threshold and y == 1)
    fp = sum(1 for p, y in zip(probabilities, truth) if p >= threshold and y == 0)
    fn = sum(1 for p, y in zip(probabilities, truth) if p < threshold and y == 1)
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def auroc(scores, truth):
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    rank_sum, i = 0.0, 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        rank_sum += sum((i + j) / 2 + 1 for k in range(i, j + 1) if truth[order[k]] == 1)
        i = j + 1
    positives = sum(truth)
    negatives = len(truth) - positives
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def calibrate(calibration, logit):
    """`Calibration.probability` in Sources/DiscernModel/Calibration.swift, as model.json stores it."""
    if "platt" in calibration:
        a, b = calibration["platt"]["a"], calibration["platt"]["b"]
        return 1 / (1 + math.exp(-(a * logit + b)))
    steps = calibration["isotonic"]["steps"]
    step = next((s for s in steps if logit <= s["upTo"]), steps[-1] if steps else None)
    return 0.5 if step is None else step["probability"]


def score(discern, folder, records, label, work):
    """Per row: fused and encoder-only probabilities; and the model's suggested threshold."""
    out = os.path.join(work, os.path.basename(folder.rstrip("/")) + ".out.jsonl")
    subprocess.run([discern, "audit", records, "--model", folder, "--out", out, "--threads", "2"],
                   check=True, capture_output=True)
    with open(os.path.join(folder, "model.json")) as f:
        model = json.load(f)
    line = model["labels"][label]["encoderOnly"]
    calibration = model["labels"][label]["calibration"]["encoder"]
    fused, encoder = [], []
    with open(out) as f:
        for record in map(json.loads, f):
            decision = record["labels"][label]
            logit = next(c["value"] for c in decision["contributions"] if c["feature"] == "encoder")
            fused.append(decision["probability"])
            encoder.append(calibrate(calibration, line["bias"] + line["encoder"] * logit))
    return {"fused": fused, "encoder": encoder}, model["suggestedThresholds"][label]


def paired_differences(discern, corpus, file, label, split, models, pairs, resamples=2000, seed=17):
    """Scores the annotated rows of `file` with each (name, folder) model; for each pair
    ("name:variant", "name:variant") returns {"f1"|"auroc": (a − b, 2.5th, 97.5th percentile)} over
    paired resamples of the rows. Also returns the row and positive counts."""
    truth = []
    with tempfile.TemporaryDirectory() as work:
        records = os.path.join(work, "rows.jsonl")
        with open(os.path.join(corpus, file)) as f, open(records, "w") as out:
            for row in map(json.loads, f):
                value = row["labels"].get(label)
                if row["split"] == split and value is not None and label not in row.get("weak", []):
                    out.write(json.dumps({"id": row["id"], "text": row["text"]}) + "\n")
                    truth.append(value)
        scored = {name: score(discern, folder, records, label, work) for name, folder in models}

    def metrics(side, rows):
        name, variant = side.split(":")
        probabilities, threshold = scored[name][0][variant], scored[name][1]
        p, y = [probabilities[i] for i in rows], [truth[i] for i in rows]
        return f1_at(p, y, threshold), auroc(p, y)

    # Each side's figures once per resample, however many pairs it is in.
    sides = {side for pair in pairs for side in pair}
    rng = random.Random(seed)
    everything = list(range(len(truth)))
    draws = [[rng.randrange(len(truth)) for _ in everything] for _ in range(resamples)]
    observed = {side: metrics(side, everything) for side in sides}
    sampled = [{side: metrics(side, rows) for side in sides} for rows in draws]
    results = []
    for a, b in pairs:
        figures = {}
        for k, name in enumerate(("f1", "auroc")):
            values = sorted(sample[a][k] - sample[b][k] for sample in sampled)
            figures[name] = (observed[a][k] - observed[b][k], values[int(0.025 * len(values))], values[int(0.975 * len(values)) - 1])
        results.append(figures)
    return len(truth), sum(truth), results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--discern", default=".build/release/discern")
    parser.add_argument("--corpus", default="../shared/data/corpus")
    parser.add_argument("--file", default="suicidal_keyword_tweets.jsonl")
    parser.add_argument("--label", default="self_harm")
    parser.add_argument("--split", default="test")
    parser.add_argument("--models", required=True, help="name=folder,name=folder,…")
    parser.add_argument("--pairs", required=True, help="a:variant-b:variant,… (each difference is a minus b)")
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    models = [entry.split("=", 1) for entry in args.models.split(",")]
    pairs = []
    for pair in args.pairs.split(","):
        # The variant after the first colon has no dash, so the first dash after it splits the pair
        # (model names may hold dashes).
        cut = pair.index("-", pair.index(":"))
        pairs.append((pair[:cut], pair[cut + 1:]))
    rows, positives, differences = paired_differences(
        args.discern, args.corpus, args.file, args.label, args.split, models, pairs, args.resamples, args.seed)
    print(f"{args.file} {args.label}, {args.split}: {rows} rows, {positives} positive; "
          f"{args.resamples} paired resamples (seed {args.seed}); F1 at each model's suggested threshold")
    print(f"{'difference (a − b)':<40}{'F1':>10}{'95% interval':>20}{'AUROC':>10}{'95% interval':>20}")
    for (a, b), figures in zip(pairs, differences):
        cells = [f"{d:>+10.3f}{f'[{low:+.3f}, {high:+.3f}]':>20}" for d, low, high in (figures["f1"], figures["auroc"])]
        print(f"{a + ' − ' + b:<40}" + "".join(cells))

if __name__ == "__main__":
    main()
