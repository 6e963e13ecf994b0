#!/usr/bin/env python3
"""Draws the real texts of Discern's annotated set from the corpus train and dev splits (never test).

Stratified so every phenomenon the label guide names is present; long posts are cut into texts of at
most ten sentences and one chunk per corpus row is drawn. Seeded: the same corpus gives the same draw.

Writes, under --out (git-ignored work folder):
  manifest.jsonl        key → corpus file, row id, split, chunk offsets (Unicode scalars)
  batches/real-NNN.jsonl  {key, text} for the first annotation pass, shuffled across sources
  second/real-NNN.jsonl   {key, text} for the blind second pass: 420 of the same texts under new keys
  second-manifest.jsonl   second-pass key → first-pass key
Keys are opaque so that an annotator cannot tell a text's source from its key.
"""
import argparse
import json
import os
import random
import re

SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
DEATH_WORDS = re.compile(
    r"\b(die|died|dying|dead|death|kill|killing|killed|suicid\w*|murder\w*|shoot|shot|jump off|hang myself|"
    r"end it|kms|kys|funeral|grave|rip|stab\w*|hurt|bleed\w*)\b", re.I)
THREAT_WORDS = re.compile(r"\b(kill|die|shoot|beat|hurt|punch|stab|hang|burn|rape|destroy|deport)\w*\b", re.I)
MAX_SENTENCES = 10
MAX_CHARS = 1200


def chunks(text):
    """(start, end) offsets of consecutive chunks of at most MAX_SENTENCES sentences / ~MAX_CHARS characters."""
    bounds = []  # sentence (start, end)
    pos = 0
    for m in SENTENCE_END.finditer(text):
        if m.start() > pos:
            bounds.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        bounds.append((pos, len(text)))
    # A run-on sentence longer than MAX_CHARS is cut at whitespace.
    pieces = []
    for s, e in bounds:
        while e - s > MAX_CHARS:
            cut = text.rfind(" ", s, s + MAX_CHARS)
            cut = cut if cut > s else s + MAX_CHARS
            pieces.append((s, cut))
            s = cut + 1
        pieces.append((s, e))
    out, cur, count = [], None, 0
    for s, e in pieces:
        if cur is not None and (count >= MAX_SENTENCES or e - cur[0] > MAX_CHARS):
            out.append(cur)
            cur, count = None, 0
        cur = (s, e) if cur is None else (cur[0], e)
        count += 1
    if cur is not None:
        out.append(cur)
    # Strip surrounding whitespace so offsets point at text.
    stripped = []
    for s, e in out:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            stripped.append((s, e))
    return stripped


def load(corpus, name):
    with open(os.path.join(corpus, name + ".jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="../shared/data/corpus")
    ap.add_argument("--out", default="Annotations/work")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--second", type=int, default=420)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    # (file, split, predicate, count, why)
    def orig(*values):
        return lambda r: str(r["orig"]) in values

    def prefix(*values):
        return lambda r: str(r["orig"]).split(":")[0] in values

    always = lambda r: True  # noqa: E731
    strata = [
        ("suicidal_keyword_tweets", "train", orig("2"), 500, "keyword tweets, serious"),
        ("suicidal_keyword_tweets", "train", orig("0"), 620, "keyword tweets, figurative/news/third-person"),
        ("suicidal_keyword_tweets", "train", orig("1"), 200, "keyword tweets, ambiguous"),
        ("suicidal_keyword_tweets", "dev", orig("2"), 240, "keyword tweets, serious"),
        ("suicidal_keyword_tweets", "dev", orig("0"), 420, "keyword tweets, figurative/news/third-person"),
        ("suicidal_keyword_tweets", "dev", orig("1"), 120, "keyword tweets, ambiguous"),
        ("sdcnl_reddit", "train", orig("1"), 230, "r/SuicideWatch"),
        ("sdcnl_reddit", "train", orig("0"), 200, "r/depression"),
        ("cssrs_reddit", "train", always, 200, "C-SSRS users"),
        ("cssrs_reddit", "dev", always, 60, "C-SSRS users"),
        ("dreaddit_posts", "train", prefix("domesticviolence", "survivorsofabuse", "ptsd"), 150, "abuse subreddits"),
        ("dreaddit_posts", "train", lambda r: not prefix("domesticviolence", "survivorsofabuse", "ptsd")(r), 90, "other stress subreddits"),
        ("dreaddit_posts", "dev", prefix("domesticviolence", "survivorsofabuse", "ptsd"), 90, "abuse subreddits"),
        ("dreaddit_posts", "dev", lambda r: not prefix("domesticviolence", "survivorsofabuse", "ptsd")(r), 50, "other stress subreddits"),
        ("cams_reddit", "train", orig("cause=1"), 90, "CAMS bias or abuse"),
        ("cams_reddit", "train", lambda r: r["orig"] != "cause=1", 130, "CAMS other causes"),
        ("cams_reddit", "dev", orig("cause=1"), 45, "CAMS bias or abuse"),
        ("cams_reddit", "dev", lambda r: r["orig"] != "cause=1", 75, "CAMS other causes"),
        ("isarcasm_tweets", "train", lambda r: DEATH_WORDS.search(r["text"]), 90, "sarcasm with death words"),
        ("tweeteval_irony", "train", lambda r: DEATH_WORDS.search(r["text"]), 90, "irony with death words"),
        ("isarcasm_tweets", "dev", lambda r: DEATH_WORDS.search(r["text"]), 60, "sarcasm with death words"),
        ("tweeteval_irony", "dev", lambda r: DEATH_WORDS.search(r["text"]), 60, "irony with death words"),
        ("isarcasm_tweets", "dev", always, 30, "sarcasm or not"),
        ("tweeteval_irony", "dev", always, 30, "irony or not"),
        ("tweeteval_offensive", "train", always, 90, "offensive or not"),
        ("tweeteval_hate", "train", always, 100, "hate or not"),
        ("davidson_tweets", "train", always, 80, "hate / offensive / neither"),
        ("tweeteval_offensive", "train", lambda r: THREAT_WORDS.search(r["text"]), 30, "offensive with violence words"),
        ("tweeteval_hate", "train", lambda r: THREAT_WORDS.search(r["text"]), 30, "hate with violence words"),
        ("tweeteval_offensive", "dev", always, 70, "offensive or not"),
        ("tweeteval_hate", "dev", always, 90, "hate or not"),
        ("davidson_tweets", "dev", always, 80, "hate / offensive / neither"),
    ]

    taken = set()
    drawn = []  # (file, row, start, end, why)
    cache = {}
    for name, split, pred, count, why in strata:
        rows = cache.setdefault(name, load(args.corpus, name))
        pool = [r for r in rows if r["split"] == split and r["id"] not in taken and pred(r)]
        assert split != "test"
        rng.shuffle(pool)
        for r in pool[:count]:
            taken.add(r["id"])
            parts = chunks(r["text"])
            if not parts:
                continue
            s, e = parts[rng.randrange(len(parts))]
            drawn.append((name + ".jsonl", r, s, e, why))
        print(f"{name:24} {split:5} {min(count, len(pool)):4} of {len(pool):5}  {why}")

    rng.shuffle(drawn)
    os.makedirs(os.path.join(args.out, "batches"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "second"), exist_ok=True)
    manifest = []
    for i, (name, r, s, e, why) in enumerate(drawn):
        manifest.append({"key": f"r{i + 1:04d}", "file": name, "row": r["id"], "split": r["split"],
                         "start": s, "end": e, "stratum": why, "text": r["text"][s:e]})
    with open(os.path.join(args.out, "manifest.jsonl"), "w", encoding="utf-8") as f:
        for m in manifest:
            f.write(json.dumps({k: v for k, v in m.items() if k != "text"}, ensure_ascii=False) + "\n")
    for b in range(0, len(manifest), args.batch):
        with open(os.path.join(args.out, "batches", f"real-{b // args.batch + 1:03d}.jsonl"), "w", encoding="utf-8") as f:
            for m in manifest[b:b + args.batch]:
                f.write(json.dumps({"key": m["key"], "text": m["text"]}, ensure_ascii=False) + "\n")
    # The blind second pass: a uniform random subset, new keys, new order.
    second = rng.sample(manifest, args.second)
    with open(os.path.join(args.out, "second-manifest.jsonl"), "w", encoding="utf-8") as f:
        for i, m in enumerate(second):
            f.write(json.dumps({"key": f"b{i + 1:04d}", "first": m["key"]}) + "\n")
    for b in range(0, len(second), args.batch):
        with open(os.path.join(args.out, "second", f"real-{b // args.batch + 1:03d}.jsonl"), "w", encoding="utf-8") as f:
            for i, m in enumerate(second[b:b + args.batch]):
                f.write(json.dumps({"key": f"b{b + i + 1:04d}", "text": m["text"]}, ensure_ascii=False) + "\n")
    dev = sum(m["split"] == "dev" for m in manifest)
    print(f"{len(manifest)} texts ({dev} from dev rows), {len(range(0, len(manifest), args.batch))} batches; second pass {len(second)}")


if __name__ == "__main__":
    main()
