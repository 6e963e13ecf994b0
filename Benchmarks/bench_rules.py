#!/usr/bin/env python3
"""Rules throughput: Discern's RuleSet.evaluate (PCRE2-JIT, Swift) next to a plain Python `re`
implementation of the same compiled patterns, both on one thread, in one invocation.

The Python peer does less than Discern: it only finds every match of every pattern, where
Discern also evaluates composites, `near` and `unless`, and builds evidence with scalar offsets.
The ratio is therefore conservative.

    python3 Benchmarks/bench_rules.py --bench .build/release/discern-bench \
        --rules Rules --corpus ../shared/data/corpus/suicidal_keyword_tweets.jsonl
"""
import argparse
import json
import re
import subprocess
import sys
import time

QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
                        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"'})


def python_patterns(exported):
    """Compiles each exported PCRE2 pattern with `re`; skips (and names) any that `re` cannot read."""
    compiled, skipped = [], []
    for p in exported:
        flags = re.IGNORECASE if p["caseless"] == "1" else 0
        # PCRE2's \p{P} (punctuation) has no `re` spelling; a close equivalent for this corpus.
        source = p["source"].replace(r"[\s\p{P}]", r"[\s!-/:-@\[-`{-~]")
        try:
            compiled.append(re.compile(source, flags))
        except re.error as error:
            skipped.append(f'{p["rule"]}: {error}')
    return compiled, skipped


def bench_python(patterns, texts, rounds):
    best, spans = float("inf"), 0
    for _ in range(rounds):
        spans = 0
        start = time.perf_counter()
        for text in texts:
            text = text.translate(QUOTES)
            for pattern in patterns:
                for _match in pattern.finditer(text):
                    spans += 1
        best = min(best, time.perf_counter() - start)
    return best, spans


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", required=True, help="path to the discern-bench binary")
    parser.add_argument("--rules", default="Rules")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    try:
        with open(args.corpus, encoding="utf-8") as f:
            texts = [json.loads(line)["text"] for line in f if line.strip()]
    except FileNotFoundError:
        print(f"skipped: corpus {args.corpus} not found (it lives in ../shared/data)")
        return 0

    exported = json.loads(subprocess.check_output([args.bench, "patterns", "--rules", args.rules]))
    patterns, skipped = python_patterns(exported)
    swift = json.loads(subprocess.check_output(
        [args.bench, "rules", "--rules", args.rules, "--corpus", args.corpus, "--rounds", str(args.rounds)]))
    seconds, spans = bench_python(patterns, texts, args.rounds)
    python_rate = len(texts) / seconds

    print(f"corpus: {args.corpus} ({len(texts)} messages, all splits)")
    print(f"rules: {swift['rules']} rules, {len(exported)} patterns ({len(patterns)} run by Python"
          + (f"; skipped: {', '.join(skipped)}" if skipped else "") + ")")
    print(f"best of {args.rounds} rounds, one thread each")
    print(f"  Discern RuleSet.evaluate (PCRE2 JIT): {swift['messages_per_second']:>12,.0f} messages/s"
          f"  ({swift['spans']} spans incl. composites)")
    print(f"    without the literal prefilter:      {swift['unfiltered_messages_per_second']:>12,.0f} messages/s"
          f"  ({swift['unfiltered_spans']} spans; {swift['filtered_patterns']} of {len(exported)} patterns filtered)")
    print(f"  Python re, same patterns:             {python_rate:>12,.0f} messages/s  ({spans} matches)")
    print(f"  ratio: {swift['messages_per_second'] / python_rate:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
