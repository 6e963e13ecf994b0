#!/usr/bin/env python3
"""Checks that no text of the annotated test split reaches training: reads the corpus and the joined
annotated set exactly as Training/train.py does (held-out rows left out, no subsampling, so every row
it could draw is checked) and looks for each test text inside every learned-from text.

usage: .venv-train/bin/python Annotations/tools/check_leaks.py   (after make annotations)
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "Training"))
import train  # noqa: E402
from heldout import held_out_rows  # noqa: E402


def main(corpus="../shared/data/corpus", build="Annotations/build"):
    held = held_out_rows()
    splits = train.read_corpus(corpus, 0.1, held | train.annotated_rows(build), 0, 17)
    splits = train.read_corpus(build, 0.1, held, splits=splits)
    test = [r for name in ("annotated_real.jsonl", "annotated_written.jsonl")
            for r in map(json.loads, open(os.path.join(build, name), encoding="utf-8")) if r["split"] == "test"]
    learned = "\x00".join(t for part, rows in splits.items() if not part.startswith("test") for t in rows["text"])
    leaks = [r["id"] for r in test if r["text"] in learned]
    print(f"{len(held)} corpus rows held out; {len(test)} annotated test texts; found inside a learned-from text: {len(leaks)}"
          + (f" ({', '.join(leaks[:10])})" if leaks else ""))
    sys.exit(1 if leaks else 0)


if __name__ == "__main__":
    main()
