#!/usr/bin/env python3
"""Checks one annotator's output file against the guide's format before it is handed in.

usage: check_batch.py OUTPUT.jsonl [INPUT.jsonl]
With INPUT (a batch of {key, text}), every input key must be answered once, in any order, and span
texts are looked up in the input's text; without it (written posts) each line carries its own text.
Prints one line per problem as FILE:LINE: what, and exits 1 if there is any.
"""
import json
import sys

LABELS = ["self_harm", "harming_others", "harmed_by_others", "reference_to_harm"]
CATEGORIES = ["serious", "mixed-recovery", "toward-others", "by-others", "third-person", "between-others",
              "casual", "recovery-past", "distress", "other"]
SPAN_TYPES = ["serious_intent", "casual_mention"]
REGISTERS = ["tweet", "reddit", "dm", "comment", "forum", "chat", "status", "other"]


def main():
    out_path = sys.argv[1]
    inputs = {}
    if len(sys.argv) > 2:
        with open(sys.argv[2], encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    inputs[r["key"]] = r["text"]
    problems = []
    seen = set()
    with open(out_path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{out_path}:{n}"
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                problems.append(f"{where}: not JSON ({e})")
                continue
            key = r.get("key")
            if not isinstance(key, str):
                problems.append(f"{where}: no key")
                continue
            if key in seen:
                problems.append(f"{where}: key {key} answered twice")
            seen.add(key)
            if inputs:
                if key not in inputs:
                    problems.append(f"{where}: key {key} is not in the input batch")
                    continue
                text = inputs[key]
            else:
                text = r.get("text")
                if not isinstance(text, str) or not text.strip():
                    problems.append(f"{where}: a written post needs its text")
                    continue
                if r.get("register") not in REGISTERS:
                    problems.append(f"{where}: register must be one of {REGISTERS}")
            for label in LABELS:
                if r.get(label) not in (0, 1):
                    problems.append(f"{where}: {label} must be 0 or 1, not {r.get(label)!r}")
            if r.get("category") not in CATEGORIES:
                problems.append(f"{where}: category must be one of {CATEGORIES}, not {r.get('category')!r}")
            spans = r.get("spans", [])
            if not isinstance(spans, list):
                problems.append(f"{where}: spans must be a list")
                continue
            counts = {t: 0 for t in SPAN_TYPES}
            for s in spans:
                t, st = s.get("type"), s.get("text")
                if t not in SPAN_TYPES:
                    problems.append(f"{where}: span type must be serious_intent or casual_mention, not {t!r}")
                    continue
                counts[t] += 1
                if not isinstance(st, str) or not st or st not in text:
                    problems.append(f"{where}: span {st!r} is not an exact substring of the text")
            if counts["serious_intent"] > 3 or counts["casual_mention"] > 3:
                problems.append(f"{where}: at most three spans of each type")
            if r.get("self_harm") == 1 and counts["serious_intent"] == 0:
                problems.append(f"{where}: a self_harm 1 text needs at least one serious_intent span")
            if r.get("self_harm") == 0 and counts["serious_intent"] > 0:
                problems.append(f"{where}: serious_intent spans only in self_harm 1 texts")
            cat = r.get("category")
            if cat in ("serious", "mixed-recovery") and r.get("self_harm") != 1:
                problems.append(f"{where}: category {cat} needs self_harm 1")
            if r.get("self_harm") == 1 and cat not in ("serious", "mixed-recovery"):
                problems.append(f"{where}: a self_harm 1 text is category serious or mixed-recovery")
    missing = [k for k in inputs if k not in seen]
    if missing:
        problems.append(f"{out_path}: {len(missing)} input keys not answered: {', '.join(missing[:10])}")
    for p in problems:
        print(p)
    print(f"{len(seen)} records, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
