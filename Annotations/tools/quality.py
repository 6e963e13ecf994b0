#!/usr/bin/env python3
"""The annotated set's quality figures, for the datasheet (make annotations-quality).

1. Agreement between the first pass and the blind second pass (Annotations/agreement/): Cohen's kappa
   per label, real and written apart and together; category agreement; span agreement as the paper's
   token-bag F1 (each span scored against the best-matching span of the same type in the other pass).
2. How distinguishable written posts are from real texts: TF-IDF + logistic regression, 5-fold
   cross-validated AUROC (0.5 = indistinguishable).
3. Near-duplicates among written posts: pairs whose word-5-gram Jaccard similarity exceeds 0.5.
Reads the joined files that `discern annotations build` writes (the real texts come from ../shared).
"""
import argparse
import itertools
import os
import re
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from standoff import read_jsonl  # noqa: E402

LABELS = ["self_harm", "harming_others", "harmed_by_others", "reference_to_harm"]
TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def kappa(a, b):
    n = len(a)
    if n == 0:
        return float("nan")
    observed = sum(x == y for x, y in zip(a, b)) / n
    pa, pb = Counter(a), Counter(b)
    expected = sum(pa[c] * pb[c] for c in set(a) | set(b)) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def tokens(text):
    return [t.lower() for t in TOKEN.findall(text)]


def bag_f1(x, y):
    """Token-bag F1 between two spans' tokens."""
    common = sum((Counter(x) & Counter(y)).values())
    if common == 0:
        return 0.0
    p, r = common / len(x), common / len(y)
    return 2 * p * r / (p + r)


def span_agreement(pairs, texts, span_type):
    """Mean over both directions of each span's best token-bag F1 against the other pass's spans of the type."""
    scores = {0: [], 1: []}
    texts_with = 0
    for first, second in pairs:
        text = texts[first["id"]]
        sides = [[tokens(text[s["start"]:s["end"]]) for s in r["spans"] if s["type"] == span_type] for r in (first, second)]
        if sides[0] or sides[1]:
            texts_with += 1
        for k in (0, 1):
            for span in sides[k]:
                scores[k].append(max((bag_f1(span, other) for other in sides[1 - k]), default=0.0))
    p = sum(scores[0]) / len(scores[0]) if scores[0] else float("nan")
    r = sum(scores[1]) / len(scores[1]) if scores[1] else float("nan")
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return f1, len(scores[0]), len(scores[1]), texts_with


def distinguishability(real, written, seed=15):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.metrics import roc_auc_score
    import numpy as np

    texts = real + written
    y = np.array([0] * len(real) + [1] * len(written))
    x = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2).fit_transform(texts)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    p = cross_val_predict(LogisticRegression(max_iter=2000, class_weight="balanced"), x, y, cv=folds,
                          method="predict_proba")[:, 1]
    return roc_auc_score(y, p)


def mask(text):
    """The platforms' surface marks that written posts lack, replaced by placeholders."""
    text = re.sub(r"https?://\S+", " URL ", text)
    text = re.sub(r"@\w+", " @USER ", text)
    text = re.sub(r"\bRT\b", " ", text)
    text = re.sub(r"&\w+;|&#\d+;", " ", text)
    return re.sub(r"â€\S?|Ã\S", "'", text)


def near_duplicates(texts, n=5, threshold=0.5):
    grams = []
    for t in texts:
        words = [w.lower() for w in re.findall(r"\w+", t)]
        grams.append(set(zip(*[words[i:] for i in range(n)])) if len(words) >= n else None)
    pairs = [(i, j) for i, j in itertools.combinations(range(len(texts)), 2)
             if grams[i] and grams[j] and len(grams[i] & grams[j]) / len(grams[i] | grams[j]) > threshold]
    exact = Counter(t.strip().lower() for t in texts)
    return pairs, sum(c - 1 for c in exact.values() if c > 1), sum(g is not None for g in grams)


def composition(real_rows, written_rows):
    print("## Composition\n")
    print("| texts | split | n | " + " | ".join(LABELS) + " | with SI span | with CM span |")
    print("|---|---|---|" + "---|" * (len(LABELS) + 2))
    for kind, rows in (("real", real_rows), ("written", written_rows), ("all", real_rows + written_rows)):
        for split in ("train", "dev", "test", "all"):
            part = [r for r in rows if split == "all" or r["split"] == split]
            if not part:
                continue
            cells = [sum(r["labels"][label] for r in part) for label in LABELS]
            si = sum(any(s["type"] == "serious_intent" for s in r["spans"]) for r in part)
            cm = sum(any(s["type"] == "casual_mention" for s in r["spans"]) for r in part)
            print(f"| {kind} | {split} | {len(part)} | " + " | ".join(map(str, cells)) + f" | {si} | {cm} |")
    print("\n| category | real | written |")
    print("|---|---|---|")
    for category in ("serious", "mixed-recovery", "toward-others", "by-others", "third-person", "between-others",
                     "casual", "recovery-past", "distress", "other"):
        print(f"| {category} | {sum(r['category'] == category for r in real_rows)} | {sum(r['category'] == category for r in written_rows)} |")
    if real_rows:
        print("\n| corpus file (real texts) | train | dev | test |")
        print("|---|---|---|---|")
        for name, count in sorted(Counter(r["corpus_file"] for r in real_rows).items()):
            by = Counter(r["split"] for r in real_rows if r["corpus_file"] == name)
            print(f"| {name} | {by['train']} | {by['dev']} | {by['test']} |")
    print("\nWritten posts by register: " + ", ".join(f"{k} {v}" for k, v in Counter(r["register"] for r in written_rows).most_common()))
    print()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--annotations", default="Annotations")
    ap.add_argument("--joined", default="Annotations/build")
    args = ap.parse_args()

    texts = {}
    real_rows, written_rows = [], []
    real_path = os.path.join(args.joined, "annotated_real.jsonl")
    if os.path.exists(real_path):
        real_rows = read_jsonl(real_path)
    written_rows = read_jsonl(os.path.join(args.joined, "annotated_written.jsonl"))
    for r in real_rows + written_rows:
        texts[r["id"]] = r["text"]

    composition(real_rows, written_rows)

    first = {r["id"]: r for r in read_jsonl(os.path.join(args.annotations, "agreement", "first-pass.jsonl"))}
    second = {r["id"]: r for r in read_jsonl(os.path.join(args.annotations, "agreement", "second-pass.jsonl"))}
    ids = [i for i in first if i in second and i in texts]
    skipped = sum(1 for i in first if i in second and i not in texts)
    print("## Agreement: first pass against the blind second pass\n")
    if skipped:
        print(f"({skipped} doubly annotated real texts skipped: their text is not in {args.joined})\n")
    print("| texts | n | " + " | ".join(f"κ {label}" for label in LABELS) + " | category agreement |")
    print("|---|---|" + "---|" * (len(LABELS) + 1))
    for kind in ("real", "written", "all"):
        chosen = [i for i in ids if kind == "all" or first[i]["kind"] == kind]
        if not chosen:
            continue
        ks = [kappa([first[i]["labels"][label] for i in chosen], [second[i]["labels"][label] for i in chosen]) for label in LABELS]
        cat = sum(first[i]["category"] == second[i]["category"] for i in chosen) / len(chosen)
        print(f"| {kind} | {len(chosen)} | " + " | ".join(f"{k:.3f}" for k in ks) + f" | {cat:.3f} |")
    print("\nPositives per pass (first / second):", ", ".join(
        f"{label} {sum(first[i]['labels'][label] for i in ids)} / {sum(second[i]['labels'][label] for i in ids)}" for label in LABELS))
    print("\n| texts | span type | token-bag F1 | spans, first pass | spans, second pass | texts with a span in either pass |")
    print("|---|---|---|---|---|---|")
    for kind in ("real", "written", "all"):
        chosen = [i for i in ids if kind == "all" or first[i]["kind"] == kind]
        for span_type in ("serious_intent", "casual_mention"):
            if not chosen:
                continue
            f1, n1, n2, t = span_agreement([(first[i], second[i]) for i in chosen], texts, span_type)
            print(f"| {kind} | {span_type} | {f1:.3f} | {n1} | {n2} | {t} |")

    if real_rows and written_rows:
        auroc = distinguishability([r["text"] for r in real_rows], [r["text"] for r in written_rows])
        masked = distinguishability([mask(r["text"]) for r in real_rows], [mask(r["text"]) for r in written_rows])
        print(f"\n## Written against real\n\nTF-IDF (word 1–2-grams) + logistic regression, 5-fold cross-validated AUROC "
              f"telling {len(written_rows)} written posts from {len(real_rows)} real texts: {auroc:.3f} (0.5 = indistinguishable); "
              f"with the platforms' surface marks masked (URLs, @mentions, RT, HTML entities, mis-decoded UTF-8): {masked:.3f}")
    pairs, exact, long_enough = near_duplicates([r["text"] for r in written_rows])
    print(f"\n## Near-duplicates among written posts\n\n{len(pairs)} pair{'' if len(pairs) == 1 else 's'} with word-5-gram Jaccard > 0.5 among "
          f"{len(written_rows)} posts ({long_enough} of at least five words; {len(pairs) / max(1, len(written_rows)):.4f} pairs per post); "
          f"{exact} exact repeats (case-folded)")
    for i, j in pairs[:10]:
        print(f"  - {written_rows[i]['id']} ~ {written_rows[j]['id']}")


if __name__ == "__main__":
    main()
