#!/usr/bin/env python3
"""Draws written posts for the blind second pass, seeded, once the writers are done:
second/written-NNN.jsonl ({key, text}, new keys c0001…) and a manifest (key → first key).

Round 1 (the defaults): 220 of the wA/wB/wC posts, keys c0001…, second-written-manifest.jsonl.
Round 2: python3 Annotations/tools/sample_written_second.py --prefixes wD,wE,wF --count 60 \
    --first-key 221 --first-file 6 --seed 1516 --manifest second-written-manifest-2.jsonl"""
import argparse
import glob
import json
import os
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="Annotations/work")
    ap.add_argument("--prefixes", default="wA,wB,wC", help="the writers' file prefixes to draw from")
    ap.add_argument("--count", type=int, default=220)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1515)
    ap.add_argument("--first-key", type=int, default=1, help="the first second-pass key's number (c0001 …)")
    ap.add_argument("--first-file", type=int, default=1, help="the first second/written-NNN.jsonl number")
    ap.add_argument("--manifest", default="second-written-manifest.jsonl")
    args = ap.parse_args()
    paths = sorted(p for prefix in args.prefixes.split(",") for p in glob.glob(os.path.join(args.work, "written", f"{prefix}-*.jsonl")))
    rows = [json.loads(line) for path in paths for line in open(path, encoding="utf-8")]
    chosen = random.Random(args.seed).sample(rows, args.count)
    keys = [f"c{args.first_key + i:04d}" for i in range(args.count)]
    with open(os.path.join(args.work, args.manifest), "w") as f:
        for key, r in zip(keys, chosen):
            f.write(json.dumps({"key": key, "first": r["key"]}) + "\n")
    for b in range(0, args.count, args.batch):
        with open(os.path.join(args.work, "second", f"written-{args.first_file + b // args.batch:03d}.jsonl"), "w", encoding="utf-8") as f:
            for key, r in zip(keys[b:b + args.batch], chosen[b:b + args.batch]):
                f.write(json.dumps({"key": key, "text": r["text"]}, ensure_ascii=False) + "\n")
    print(f"{args.count} of {len(rows)} written posts drawn for the second pass")


if __name__ == "__main__":
    main()
