#!/usr/bin/env python3
"""Records adjudication decisions: reads decisions (id → labels, category, whose spans, rule, why) from a
Python file and the disagreements from work/disagreements.jsonl, checks that every disagreement is
decided and that the kept spans fit the decision, and appends them to Annotations/agreement/adjudication.jsonl.

usage: adjudicate.py DECISIONS.py   (DECISIONS.py defines D = {id: ("sh ho hbo rth as 0/1 digits", category, "a"|"b", rule, why)})
"""
import importlib.util
import json
import os
import sys

LABELS = ["self_harm", "harming_others", "harmed_by_others", "reference_to_harm"]


def main(decisions_path, work="Annotations/work", out="Annotations/agreement/adjudication.jsonl"):
    spec = importlib.util.spec_from_file_location("decisions", decisions_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    decisions = module.D
    disagreements = {}
    with open(os.path.join(work, "disagreements.jsonl"), encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            disagreements[r["id"]] = r
    existing = {}
    if os.path.exists(out):
        with open(out, encoding="utf-8") as f:
            existing = {json.loads(line)["id"]: json.loads(line) for line in f if line.strip()}
    problems = []
    for stand_id, (digits, category, spans_from, rule, why) in decisions.items():
        d = disagreements.get(stand_id)
        if d is None:
            problems.append(f"{stand_id}: not a disagreement")
            continue
        labels = {k: int(c) for k, c in zip(LABELS, digits)}
        side = d[spans_from]
        has_si = any(s["type"] == "serious_intent" for s in side["spans"])
        if labels["self_harm"] == 1 and not has_si or labels["self_harm"] == 0 and has_si:
            problems.append(f"{stand_id}: pass {spans_from}'s spans do not fit self_harm {labels['self_harm']}")
        sided = [name for name, key in (("first", "a"), ("second", "b"))
                 if d[key]["labels"] == labels and d[key]["category"] == category]
        existing[stand_id] = {"id": stand_id, "labels": labels, "category": category, "spans_from": spans_from,
                              "sided_with": sided[0] if sided else "neither", "rule": rule, "why": why}
    undecided = [i for i in disagreements if i not in existing]
    if undecided:
        problems.append(f"{len(undecided)} disagreements undecided: {', '.join(undecided[:8])}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    with open(out, "w", encoding="utf-8") as f:
        for r in existing.values():
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(existing)} adjudicated: " + ", ".join(
        f"{k} {sum(r['sided_with'] == k for r in existing.values())}" for k in ("first", "second", "neither")))


if __name__ == "__main__":
    main(*sys.argv[1:])
