#!/usr/bin/env python3
"""Draws the written posts for the blind second pass (220 of them, seeded) once the writers are done:
second/written-NNN.jsonl ({key, text}, new keys c0001…) and second-written-manifest.jsonl (key → first key)."""
import glob
import json
import os
import random


def main(work="Annotations/work", count=220, batch=50, seed=1515):
    rows = [json.loads(line) for path in sorted(glob.glob(os.path.join(work, "written", "*.jsonl"))) for line in open(path, encoding="utf-8")]
    chosen = random.Random(seed).sample(rows, count)
    with open(os.path.join(work, "second-written-manifest.jsonl"), "w") as f:
        for i, r in enumerate(chosen):
            f.write(json.dumps({"key": f"c{i + 1:04d}", "first": r["key"]}) + "\n")
    for b in range(0, count, batch):
        with open(os.path.join(work, "second", f"written-{b // batch + 1:03d}.jsonl"), "w", encoding="utf-8") as f:
            for i, r in enumerate(chosen[b:b + batch]):
                f.write(json.dumps({"key": f"c{b + i + 1:04d}", "text": r["text"]}, ensure_ascii=False) + "\n")
    print(f"{count} of {len(rows)} written posts drawn for the second pass")


if __name__ == "__main__":
    main()
