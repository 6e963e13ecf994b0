#!/usr/bin/env python3
"""How often Discern's scope mark is right: `make bench-language`.

Runs `discern audit --rules-only` (the scope does not depend on the encoder) over
- the authored sentences in Benchmarks/language/{es,de,fr,pt}.txt (300 each): right when marked
  `unsupported_language`;
- English corpus rows from the tweet sources' `test` split (read at run time from ../shared/data;
  nothing of it is written anywhere) that carry emoji, hashtags or slang: right when not marked. A
  seeded sample of 300, and every such test row. The scope's thresholds were chosen on `dev` rows.

Prints the figures; asserts nothing.
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile

LANGUAGES = {"es": "Spanish", "de": "German", "fr": "French", "pt": "Portuguese"}
TWEET_SOURCES = [
    "suicidal_keyword_tweets", "isarcasm_tweets", "tweeteval_irony", "tweeteval_offensive", "tweeteval_hate", "davidson_tweets",
]
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF]")
HASHTAG = re.compile(r"#\w")
SLANG = re.compile(
    r"\b(lol|lmao|lmfao|ngl|tbh|idk|omg|smh|af|bruh|lowkey|fr|rn|ur|u|gonna|wanna|ya|imo|wtf|ain't|y'all|yall|kms|kys|bae|fam|lit|sis|bro)\b",
    re.IGNORECASE)


def english_rows(corpus, split):
    rows = []
    for source in TWEET_SOURCES:
        path = os.path.join(corpus, source + ".jsonl")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                text = row["text"]
                if row["split"] == split and (EMOJI.search(text) or HASHTAG.search(text) or SLANG.search(text)):
                    rows.append((row["id"], text))
    return rows


def scopes(discern, texts):
    """The scope of each text, as `discern audit` records it."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "in.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for i, text in enumerate(texts):
                f.write(json.dumps({"id": str(i), "text": text}, ensure_ascii=False) + "\n")
        out = subprocess.run([discern, "audit", "--rules-only", path], capture_output=True, check=True, text=True).stdout
    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(records) == len(texts), f"{len(records)} records for {len(texts)} texts"
    return [record["scope"] for record in records]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--discern", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--sentences", default=os.path.join(os.path.dirname(__file__), "language"))
    parser.add_argument("--show", type=int, default=10, help="misses to print per set")
    args = parser.parse_args()

    print("Scope mark (unsupported_language) — right share per set; Discern decides with CLD2 + common-word check")
    print(f"{'set':<44} {'n':>5} {'right':>7} {'share':>7}")
    misses = {}
    for code, name in LANGUAGES.items():
        with open(os.path.join(args.sentences, code + ".txt"), encoding="utf-8") as f:
            texts = [line.rstrip("\n") for line in f if line.strip()]
        read = scopes(args.discern, texts)
        right = [s["scope"] == "unsupported_language" for s in read]
        print(f"{name + ' (authored, marked = right)':<44} {len(texts):>5} {sum(right):>7} {100 * sum(right) / len(texts):>6.1f}%")
        misses[name] = [(t, s) for t, s, ok in zip(texts, read, right) if not ok]

    rows = english_rows(args.corpus, "test")
    if not rows:
        print(f"no English corpus rows under {args.corpus}: skipped the English sets")
    else:
        sample = rows[:]
        random.Random(18).shuffle(sample)
        for label, chosen in [("English test, emoji/#/slang, sample of 300", sample[:300]), ("English test, emoji/#/slang, all", rows)]:
            texts = [t for _, t in chosen]
            read = scopes(args.discern, texts)
            marked = [s["scope"] != "supported" for s in read]
            print(f"{label + ' (marked)':<44} {len(texts):>5} {sum(marked):>7} {100 * sum(marked) / len(texts):>6.2f}%")
            misses[label] = [(t, s) for t, s, m in zip(texts, read, marked) if m]
    for name, missed in misses.items():
        if missed and args.show:
            print(f"\n{name}: {len(missed)} wrong" + (f", the first {args.show}" if len(missed) > args.show else ""))
            for text, scope in missed[: args.show]:
                # Corpus text is printed to the terminal only, as the other benches do; never written to a file.
                print(f"  {scope['scope']} {scope['language']}: {text[:100]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
