#!/usr/bin/env python3
"""Per corpus source: does `discern learn` on at most 300 of its annotated dev rows, given as
moderators' verdicts, bring that source's test ECE within chance? (issue 21, "Done when")

For each source with annotated dev rows (Annotations/build/annotated_real.jsonl, `corpus_file`):
  1. `discern verdicts import` its first <= 300 annotated dev rows into a fresh verdicts database
     (the annotation's labels as the moderators' verdicts);
  2. `discern learn --verdicts DB --out MODEL` (refused models are reported, not measured);
  3. `discern eval --json --split test` with the starting and the learned model, on
       - the source's own corpus test rows (its own labels: what the issue's ECE figures measure), and
       - the source's annotated test rows (the label guide's labels: what the verdicts taught),
     each against max(0.05, the chance ECE's 95th percentile) of that model on those rows.
Only dev rows are learned from; test rows are only measured. Offline measurement: never part of
`swift test` or `make test`.

Usage: python3 Training/learn_per_source.py [--work DIR] [--limit 300] [--bin .build/debug/discern]
Writes WORK/report-<verdicts-from>.md and prints the table. The embedding cache lives in WORK/.models/cache (the
commands run with WORK as their working directory), never in the checkout's .models.
"""

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, cwd):
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", default=os.path.join(ROOT, ".build", "learn-per-source"))
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "debug", "discern"))
    parser.add_argument("--corpus", default=os.path.join(ROOT, "..", "shared", "data", "corpus"))
    parser.add_argument("--annotated", default=os.path.join(ROOT, "Annotations", "build", "annotated_real.jsonl"))
    parser.add_argument("--model", default=os.path.join(ROOT, "Models", "default"))
    parser.add_argument("--sources", help="comma-separated subset")
    parser.add_argument(
        "--verdicts-from", choices=["annotated", "corpus"], default="annotated",
        help="annotated: the source's annotated dev rows (the label guide's labels, the issue's measurement); "
             "corpus: the source's own corpus dev rows (its own labels, as a platform whose moderators follow its own definitions)")
    args = parser.parse_args()

    if not os.path.exists(args.annotated):
        sys.exit(f"no {args.annotated}: run 'make annotations' first")
    os.makedirs(os.path.join(args.work, ".models", "cache"), exist_ok=True)
    resources = [
        "--rules", os.path.join(ROOT, "Rules"),
        "--policy", os.path.join(ROOT, "Rules", "policy.yaml"),
        "--encoder", os.path.join(ROOT, ".models", "all-MiniLM-L6-v2"),
        "--lexicon", os.path.join(ROOT, "Lexicons", "cesm.yaml"),
    ]

    rows = [json.loads(line) for line in open(args.annotated, encoding="utf-8")]
    sources = sorted({r["corpus_file"][:-6] for r in rows if r["split"] == "dev"})
    if args.sources:
        sources = [s for s in sources if s in args.sources.split(",")]

    results = []
    for source in sources:
        folder = os.path.join(args.work, args.verdicts_from, source)
        os.makedirs(folder, exist_ok=True)
        db = os.path.join(folder, "verdicts.sqlite")
        learned = os.path.join(folder, "learned")
        for path in [db]:
            if os.path.exists(path):
                os.remove(path)
        subprocess.run(["rm", "-rf", learned])
        dev = [r for r in rows if r["split"] == "dev" and r["corpus_file"] == source + ".jsonl"]
        if args.verdicts_from == "annotated":
            selection = ["--corpus", args.annotated, "--source", source]
        else:
            # The corpus dev rows, less those behind the annotated test split (its chunks are cut
            # from corpus dev rows): a verdict on one of them would be fitted on a text measured below.
            held_out = {r["corpus_row"] for r in rows if r["split"] == "test"}
            dev = [json.loads(line) for line in open(os.path.join(args.corpus, source + ".jsonl"), encoding="utf-8")]
            dev = [r for r in dev if r["split"] == "dev" and r["id"] not in held_out]
            corpus_dev = os.path.join(folder, "corpus-dev.jsonl")
            with open(corpus_dev, "w", encoding="utf-8") as out_file:
                for r in dev:
                    out_file.write(json.dumps(r, ensure_ascii=False) + "\n")
            selection = ["--corpus", corpus_dev]
        code, out, err = run(
            [args.bin, "verdicts", "import", "--db", db, "--split", "dev", "--limit", str(args.limit), "--model", args.model]
            + selection + resources, args.work)
        if code != 0:
            # No labelled (non-weak) dev rows to give as verdicts: reported, the model kept.
            learn_out, learn_err, written = "", "no verdicts: " + err.strip(), False
        else:
            code, learn_out, learn_err = run(
                [args.bin, "learn", "--verdicts", db, "--out", learned, "--model", args.model] + resources, args.work)
            written = code == 0
        # Test rows only: the source's corpus test split, and its annotated test rows.
        test_sets = {}
        corpus_test = os.path.join(folder, "corpus-test")
        os.makedirs(corpus_test, exist_ok=True)
        with open(os.path.join(args.corpus, source + ".jsonl"), encoding="utf-8") as f, \
                open(os.path.join(corpus_test, source + ".jsonl"), "w", encoding="utf-8") as out_file:
            for line in f:
                if json.loads(line)["split"] == "test":
                    out_file.write(line)
        test_sets["corpus"] = corpus_test
        annotated_test = os.path.join(folder, "annotated-test")
        os.makedirs(annotated_test, exist_ok=True)
        with open(os.path.join(annotated_test, "annotated_" + source + ".jsonl"), "w", encoding="utf-8") as out_file:
            for r in rows:
                if r["split"] == "test" and r["corpus_file"] == source + ".jsonl":
                    out_file.write(json.dumps(r) + "\n")
        test_sets["annotated"] = annotated_test
        measured = {}
        for name, corpus in test_sets.items():
            for model_name, model in [("before", args.model), ("after", learned)]:
                if model_name == "after" and not written:
                    continue
                code, out, err = run(
                    [args.bin, "eval", "--json", "--corpus", corpus, "--split", "test", "--model", model] + resources, args.work)
                if code != 0:
                    sys.exit(f"{source}: eval failed: {err}")
                measured[(name, model_name)] = json.loads(out)
        counts = {}
        for name, corpus in test_sets.items():
            for file in os.listdir(corpus):
                test_rows = [json.loads(line) for line in open(os.path.join(corpus, file), encoding="utf-8")]
                for label in ["self_harm", "harming_others", "harmed_by_others", "reference_to_harm"]:
                    labelled = [r for r in test_rows if r["labels"].get(label) is not None]
                    # As `discern eval` counts them: weak rows only where a file has no other.
                    annotated = [r for r in labelled if label not in r.get("weak", [])]
                    counts[(name, file, label)] = len(annotated or labelled)
        results.append((source, len(dev), learn_out, learn_err, written, measured, counts))

    lines = [
        "| source | dev rows given as verdicts (used) | learn | test set | label | rows | ECE before (chance 95%) | ECE after (chance 95%) | within max(0.05, chance)? |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for source, dev_rows, learn_out, learn_err, written, measured, counts in results:
        verdict = "written" if written else ("no verdicts" if learn_err.startswith("no verdicts") else "refused")
        for name in ["corpus", "annotated"]:
            before = measured.get((name, "before"), {})
            after = measured.get((name, "after"), {})
            for file in sorted(f for f in before if f != "spans"):  # "spans": the tagger's scores, not a file
                for label in sorted(before[file]):
                    b = before[file][label]["fused"]
                    a = after.get(file, {}).get(label, {}).get("fused")
                    bar_b = max(0.05, b["ece_chance95"])
                    cell_after = f"{a['ece']:.3f} ({a['ece_chance95']:.3f})" if a else "—"
                    within = ("yes" if a["ece"] <= max(0.05, a["ece_chance95"]) else "no") if a else ("yes (kept)" if b["ece"] <= bar_b else "no (kept)")
                    lines.append(
                        f"| {source} | {dev_rows} ({min(dev_rows, args.limit)}) | {verdict} | {name} | {label} | {counts.get((name, file, label), '?')} | "
                        f"{b['ece']:.3f} ({b['ece_chance95']:.3f}) | {cell_after} | {within} |")
    report = "\n".join(lines)
    details = "\n\n".join(
        f"## {source}\n\n```\n{learn_out.strip()}\n{learn_err.strip()}\n```" for source, _, learn_out, learn_err, _, _, _ in results)
    with open(os.path.join(args.work, f"report-{args.verdicts_from}.md"), "w", encoding="utf-8") as f:
        f.write(report + "\n\n" + details + "\n")
    print(report)
    print()
    print(details)


if __name__ == "__main__":
    main()
