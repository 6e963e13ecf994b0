#!/usr/bin/env python3
"""Discern's accuracy beside TF-IDF + logistic regression, on the same corpus splits, in one run.

The peer (scikit-learn) trains on each file's `train` rows per label (word 1–2-grams, sublinear tf,
class-balanced), picks its C by dev AUROC and its threshold by dev F1 (generous to the peer), and is
scored on `test`. Discern's figures come from `discern eval --json` in the same run. Rows with weak
labels are left out where annotated rows exist, as `discern eval` does.

    python Benchmarks/bench_accuracy.py --discern .build/release/discern --corpus ../shared/data/corpus
"""

import argparse
import json
import os
import subprocess

import sys

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_curve, roc_auc_score

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Annotations", "tools"))
from heldout import held_out_rows  # noqa: E402

# The peer selects on dev; the corpus rows behind the annotated test split are not dev for anyone.
HELD_OUT = held_out_rows()

LABELS = ["self_harm", "harming_others", "harmed_by_others", "reference_to_harm"]


def rows_for(rows, split, label):
    chosen = [r for r in rows if r["split"] == split and r["labels"].get(label) is not None
              and not (split != "test" and r["id"] in HELD_OUT)]
    annotated = [r for r in chosen if label not in (r.get("weak") or [])]
    return (annotated or chosen), not annotated


def tfidf_peer(rows, label):
    train, _ = rows_for(rows, "train", label)
    dev, _ = rows_for(rows, "dev", label)
    test, weak = rows_for(rows, "test", label)
    ys = lambda part: np.array([r["labels"][label] for r in part])
    if len(set(ys(train))) < 2 or len(set(ys(dev))) < 2 or len(set(ys(test))) < 2:
        return None
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x_train = vectorizer.fit_transform([r["text"] for r in train])
    x_dev = vectorizer.transform([r["text"] for r in dev])
    x_test = vectorizer.transform([r["text"] for r in test])
    best = None
    for c in [0.1, 0.3, 1, 3, 10]:
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(x_train, ys(train))
        auroc = roc_auc_score(ys(dev), model.predict_proba(x_dev)[:, 1])
        if best is None or auroc > best[0]:
            best = (auroc, model)
    model = best[1]
    precision, recall, thresholds = precision_recall_curve(ys(dev), model.predict_proba(x_dev)[:, 1])
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    threshold = thresholds[int(np.argmax(f1[:-1]))]
    scores = model.predict_proba(x_test)[:, 1]
    return {"f1": f1_score(ys(test), scores >= threshold), "auroc": roc_auc_score(ys(test), scores), "rows": len(test), "weak": weak}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--discern", default=".build/release/discern")
    parser.add_argument("--corpus", default="../shared/data/corpus")
    parser.add_argument("--model", default="Models/default")
    args = parser.parse_args()

    discern = json.loads(subprocess.run(
        [args.discern, "eval", "--corpus", args.corpus, "--split", "test", "--model", args.model, "--json", "--threads", "2"],
        check=True, capture_output=True, text=True).stdout)
    print("test split; F1 at each system's threshold (Discern: the policy's; TF-IDF + LR: its best on dev)")
    print()
    print("| file | label | rows | TF-IDF + LR F1 / AUROC | rules-only | encoder-only | **Discern fused** |")
    print("|---|---|---|---|---|---|---|")
    for name in sorted(os.listdir(args.corpus)):
        if not name.endswith(".jsonl"):
            continue
        rows = [json.loads(line) for line in open(os.path.join(args.corpus, name), encoding="utf-8")]
        for label in LABELS:
            ours = discern.get(name, {}).get(label)
            if ours is None:
                continue
            peer = tfidf_peer(rows, label)
            peer_cell = f"{peer['f1']:.3f} / {peer['auroc']:.3f}" if peer else "—"
            weak = " (weak)" if peer and peer["weak"] else ""
            cells = [f"{ours[v]['f1']:.3f} / {ours[v]['auroc']:.3f}" for v in ["rules", "encoder", "fused"]]
            print(f"| {name.replace('.jsonl', '')}{weak} | {label} | {peer['rows'] if peer else ''} | {peer_cell} | "
                  + " | ".join(cells[:2]) + f" | **{cells[2]}** |")


if __name__ == "__main__":
    main()
