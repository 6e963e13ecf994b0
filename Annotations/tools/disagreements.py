#!/usr/bin/env python3
"""Lists the doubly annotated texts where the two passes disagree on a label or the category, for
adjudication: work/disagreements.jsonl with the text and both passes side by side (spans as text)."""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from standoff import LABELS, read_folder, read_jsonl  # noqa: E402


def main(work="Annotations/work"):
    texts = {}
    for name in sorted(os.listdir(os.path.join(work, "batches"))):
        for r in read_jsonl(os.path.join(work, "batches", name)):
            texts[r["key"]] = r["text"]
    manifest = {m["key"]: m for m in read_jsonl(os.path.join(work, "manifest.jsonl"))}
    first = read_folder(os.path.join(work, "pass1"))
    written = read_folder(os.path.join(work, "written"))
    second = read_folder(os.path.join(work, "pass2"))
    pairs = {}
    for path in [os.path.join(work, "second-manifest.jsonl")] + sorted(glob.glob(os.path.join(work, "second-written-manifest*.jsonl"))):
        if os.path.exists(path):
            pairs.update({m["key"]: m["first"] for m in read_jsonl(path)})
    out, n = [], 0
    for key2, key1 in sorted(pairs.items()):
        r1, r2 = first.get(key1) or written.get(key1), second.get(key2)
        if r1 is None or r2 is None:
            continue
        n += 1
        differ = [label for label in LABELS if r1[label] != r2[label]]
        if not differ and r1["category"] == r2["category"]:
            continue
        if key1 in written:
            stand_id, text = "w-" + key1, written[key1]["text"]
        else:
            m = manifest[key1]
            stand_id, text = f"{m['row']}@{m['start']}-{m['end']}", texts[key1]
        side = lambda r: {"labels": {k: r[k] for k in LABELS}, "category": r["category"],  # noqa: E731
                          "spans": r.get("spans", []), "note": r.get("note", "")}
        out.append({"id": stand_id, "text": text, "disagree_on": differ or ["category"], "a": side(r1), "b": side(r2)})
    with open(os.path.join(work, "disagreements.jsonl"), "w", encoding="utf-8") as f:
        for r in out:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(out)} of {n} doubly annotated texts disagree on a label or the category")


if __name__ == "__main__":
    main(*sys.argv[1:])
