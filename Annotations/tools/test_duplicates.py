#!/usr/bin/env python3
"""Finds the corpus rows that hold the text of an annotated test chunk under another row id (the same
post posted twice, or kept by two source sets) and writes them to Annotations/heldout-duplicates.jsonl,
so that leaving out the rows behind the annotated test split leaves these out too (heldout.py and
AnnotatedSet.heldOutRows read the file). Rows are matched by the chunk's text, whole, inside theirs."""
import bisect
import glob
import json
import os


def main(corpus="../shared/data/corpus", build="Annotations/build", out="Annotations/heldout-duplicates.jsonl"):
    rows = []
    for path in sorted(glob.glob(os.path.join(corpus, "*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            rows += [json.loads(line) for line in f if line.strip()]
    starts, parts, offset = [], [], 0
    for r in rows:
        starts.append(offset)
        parts.append(r["text"])
        offset += len(r["text"]) + 1
    big = "\x00".join(parts)
    found = {}
    with open(os.path.join(build, "annotated_real.jsonl"), encoding="utf-8") as f:
        tests = [json.loads(line) for line in f if line.strip() and json.loads(line)["split"] == "test"]
    for t in tests:
        text, i = t["text"], big.find(t["text"])
        while i >= 0:
            row = rows[bisect.bisect_right(starts, i) - 1]["id"]
            if row != t["corpus_row"]:
                found.setdefault(row, t["id"])
            i = big.find(text, i + 1)
    with open(out, "w", encoding="utf-8") as f:
        for row, same_as in sorted(found.items()):
            f.write(json.dumps({"row": row, "same_text_as": same_as}) + "\n")
    print(f"{len(found)} corpus rows hold the text of an annotated test chunk under another id; wrote {out}")


if __name__ == "__main__":
    main()
