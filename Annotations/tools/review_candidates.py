#!/usr/bin/env python3
"""Picks the single-annotated texts that the adjudication rules (GUIDE.md, A1–A14) may change, for the
review pass: real texts whose words fall in a class a rule settles, and written posts whose writer left
a note (the writer's own doubt). Selection is by pattern; every decision in the review is a reader's.
Writes work/review/review-NNN.jsonl: {key, text, why, first: the first-pass annotation}."""
import glob
import json
import os
import re
from collections import Counter

DEATH = re.compile(r"suicid|\bkms\b|kill (my ?self|me)|want(ed)? to die|wanna die|\bdie\b|\bdead\b|end (it|my life)|"
                   r"not (want|wanna) to (be here|exist|live)", re.I)
LAUGH = re.compile(r"\b(lol|lmao|lmfao|haha\w*|jk)\b|😂|💀|🤣|😭|🙃|😅", re.I)
CLASSES = [
    ("A2/A3 laughter", lambda t, r: DEATH.search(t) and LAUGH.search(t)),
    ("A1 disclaimer", lambda t, r: re.search(r"\bnot (even )?suicidal|\bnot on (some|any) suicidal|\bnot to (be|sound) suicidal", t, re.I)),
    ("A4/A5 past or returning", lambda t, r: re.search(r"suicid|self.?harm|\bcut", t, re.I) and re.search(
        r"\b(was|were|used to|had|got|been)\b.{0,20}suicid|attempt|years ago|back when|when i was|again|came back|coming back|relapse", t, re.I)),
    ("A6/A13 insult in a report", lambda t, r: r["harming_others"] == 1 and (r["self_harm"] or r["harmed_by_others"] or r["reference_to_harm"] or len(t) > 300)),
    ("A14 gendered slur", lambda t, r: re.search(r"\b(bitch\w*|hoes?|pussy|pussies|skanks?)\b", t, re.I)),
    ("A8 fiction", lambda t, r: re.search(r"\b(character|anime|manga|episode|season|movie|film|novel|book|show|series|fic|roleplay)\b", t, re.I)
        and re.search(r"suicid|kill|die|dead|death", t, re.I)),
    ("A7 support", lambda t, r: re.search(r"\byour suicidal|\byou('re| are) suicidal|\bif you (ever )?(feel|are)|\bdon'?t give up|\bhang in there|reach out", t, re.I)),
    ("A9 giving up", lambda t, r: re.search(r"\bwant out\b|give up|giving up|keep trying|last chance|can'?t do this anymore|no more strength", t, re.I)),
]


def read(pattern):
    out = {}
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    out[r["key"]] = r
    return out


def main(work="Annotations/work", batch=50):
    texts = {k: r["text"] for k, r in read(os.path.join(work, "batches", "*.jsonl")).items()}
    first = read(os.path.join(work, "pass1", "*.jsonl"))
    written = read(os.path.join(work, "written", "*.jsonl"))
    doubly = set()
    for name in ("second-manifest.jsonl", "second-written-manifest.jsonl"):
        with open(os.path.join(work, name), encoding="utf-8") as f:
            doubly |= {json.loads(line)["first"] for line in f if line.strip()}
    picked, counts = [], Counter()
    for key, r in first.items():
        if key in doubly:
            continue  # adjudicated instead
        why = [name for name, test in CLASSES if test(texts[key], r)]
        if why:
            counts.update(why)
            picked.append((key, texts[key], why, r))
    for key, r in written.items():
        if key not in doubly and (r.get("note") or "").strip():
            counts.update(["writer's note"])
            picked.append((key, r["text"], ["writer's note"], r))
    os.makedirs(os.path.join(work, "review"), exist_ok=True)
    for b in range(0, len(picked), batch):
        with open(os.path.join(work, "review", f"review-{b // batch + 1:03d}.jsonl"), "w", encoding="utf-8") as f:
            for key, text, why, r in picked[b:b + batch]:
                first_annotation = {k: r[k] for k in ("self_harm", "harming_others", "harmed_by_others", "reference_to_harm", "category", "spans")}
                first_annotation["note"] = r.get("note", "")
                f.write(json.dumps({"key": key, "text": text, "why": why, "first": first_annotation}, ensure_ascii=False) + "\n")
    print(f"{len(picked)} texts for review in {len(range(0, len(picked), batch))} batches: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))


if __name__ == "__main__":
    main()
