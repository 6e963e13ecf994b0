#!/usr/bin/env python3
"""Fused models on different encoders, side by side on the corpus test splits, in one run.

Each model folder is measured with `discern eval --json --model-thresholds` (F1 at each model's own
best-dev-F1 threshold, so that encoders with different logit scales compare fairly):

    python3 Training/compare.py --discern .build/release/discern \
        --models frozen=.models/compare/frozen,teacher=.models/compare/teacher,student=Models/default
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Benchmarks"))
from paired_bootstrap import paired_differences  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--discern", default=".build/release/discern")
    parser.add_argument("--corpus", default="../shared/data/corpus")
    parser.add_argument("--models", required=True, help="name=folder,name=folder,…")
    parser.add_argument("--annotated", default=os.path.join("Annotations", "build"),
                        help="the joined annotated set (make annotations), measured too when present")
    parser.add_argument("--threads", default="2")
    args = parser.parse_args()
    models = [entry.split("=", 1) for entry in args.models.split(",")]
    folders = [args.corpus] + ([args.annotated] if os.path.isdir(args.annotated) else [])
    results = {}
    for name, folder in models:
        print(f"measuring {name} ({folder}) …", file=sys.stderr, flush=True)
        results[name] = {}
        for corpus in folders:
            out = subprocess.run(
                [args.discern, "eval", "--corpus", corpus, "--split", "test", "--model", folder, "--json",
                 "--model-thresholds", "--threads", args.threads],
                check=True, capture_output=True, text=True).stdout
            measured = json.loads(out)
            measured.pop("spans", None)
            results[name].update(measured)
    names = [name for name, _ in models]
    print("test splits; F1 at each model's suggested threshold / AUROC; fused = rules + encoder, encoder = its head alone")
    header = f"{'file':<26}{'label':<18}{'variant':<9}" + "".join(f"{name:>16}" for name in names)
    print(header)
    files = sorted({file for name in names for file in results[name]})
    for file in files:
        for label in sorted({label for name in names for label in results[name].get(file, {})}):
            for variant in ("fused", "encoder"):
                cells = []
                for name in names:
                    m = results[name].get(file, {}).get(label, {}).get(variant)
                    cells.append(f"{m['f1']:.3f} / {m['auroc']:.3f}" if m else "—")
                print(f"{file.removesuffix('.jsonl'):<26}{label:<18}{variant:<9}" + "".join(f"{c:>16}" for c in cells))
    # The acceptance lines, when the three usual names are present.
    key = ("suicidal_keyword_tweets.jsonl", "self_harm", "fused")
    if {"frozen", "teacher", "student"} <= set(names):
        f = {name: results[name][key[0]][key[1]][key[2]] for name in ("frozen", "teacher", "student")}
        print()
        print(f"suicidal_keyword_tweets self_harm, fused: student F1 {f['student']['f1']:.3f} AUROC {f['student']['auroc']:.3f}; "
              f"frozen {f['frozen']['f1']:.3f} / {f['frozen']['auroc']:.3f}; teacher {f['teacher']['f1']:.3f} / {f['teacher']['auroc']:.3f}")
        beats = f["student"]["f1"] > f["frozen"]["f1"] and f["student"]["auroc"] > f["frozen"]["auroc"]
        gap = (f["teacher"]["f1"] - f["student"]["f1"]) * 100
        standing = f"{gap:.1f} F1 points behind" if gap > 0 else f"{-gap:.1f} F1 points ahead of"
        print(f"  student beats frozen on F1 and AUROC: {'yes' if beats else 'NO'}; "
              f"student is {standing} the teacher ({'within' if gap <= 1 else 'NOT within'} 1 point)")
        # How much of that the test split can resolve: paired resamples of its rows.
        folders = dict(models)
        rows, positives, (teacher_gap, frozen_gap) = paired_differences(
            args.discern, args.corpus, key[0], key[1], "test",
            [(name, folders[name]) for name in ("frozen", "teacher", "student")],
            [("teacher:fused", "student:fused"), ("student:fused", "frozen:fused")])
        for text, figures in (("teacher − student", teacher_gap), ("student − frozen", frozen_gap)):
            print(f"  {text}: " + ", ".join(
                f"{metric} {d:+.3f} (95% interval {low:+.3f} to {high:+.3f})"
                for metric, (d, low, high) in (("F1", figures["f1"]), ("AUROC", figures["auroc"]))))
        print(f"  (2,000 paired resamples of the {rows} test rows, {positives} positive: Benchmarks/paired_bootstrap.py)")


if __name__ == "__main__":
    main()
