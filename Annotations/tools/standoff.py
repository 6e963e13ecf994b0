#!/usr/bin/env python3
"""Turns the annotators' work files into the committed stand-off set.

Reads the git-ignored work folder (manifest, first-pass and second-pass outputs, written posts,
adjudication decisions) and writes:
  Annotations/real.jsonl        one record per real text: corpus file, row id, chunk offsets, text
                                fingerprint, split, the final labels, spans (scalar offsets), category
  Annotations/written.jsonl     the written posts with their text, labels, spans, category, split
  Annotations/agreement/first-pass.jsonl, second-pass.jsonl
                                both passes over the doubly annotated texts, as annotated (before
                                adjudication), keyed by the same ids, for `quality.py`
  Annotations/agreement/review-changes.jsonl
                                each correction the review pass made (before, after, the rule)
Final labels are the first pass's, replaced by the adjudicated decision wherever the passes disagreed
(Annotations/agreement/adjudication.jsonl, committed: id, labels, category, whose spans, the rule).
Span offsets are found by looking the annotator's exact span text up in the text (first occurrence).
No public text is written: real records carry offsets and a fingerprint only.
"""
import argparse
import glob
import json
import os

LABELS = ["self_harm", "harming_others", "harmed_by_others", "reference_to_harm"]


def fnv1a64(text):
    """FNV-1a 64 of the UTF-8 bytes, as Discern's Swift `FNV1a` writes it."""
    h = 0xCBF29CE484222325
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "fnv1a64:" + format(h, "x")


def fnv_value(text):
    return int(fnv1a64(text).split(":")[1], 16)


def annotated_split(corpus_split, row_id):
    """Corpus train rows stay train; corpus dev rows divide by a hash of the row id into dev and test."""
    if corpus_split == "train":
        return "train"
    assert corpus_split == "dev", corpus_split
    return "test" if fnv_value(row_id) % 2 == 1 else "dev"


def written_split(post_id):
    bucket = fnv_value(post_id) % 100
    return "train" if bucket < 70 else "dev" if bucket < 85 else "test"


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_folder(folder, prefix=""):
    out = {}
    if not os.path.isdir(folder):
        return out
    for name in sorted(os.listdir(folder)):
        if name.endswith(".jsonl") and name.startswith(prefix):
            for r in read_jsonl(os.path.join(folder, name)):
                out[r["key"]] = r
    return out


def offsets(text, spans, where):
    """Annotator spans (exact text) → [{type, start, end}] in Unicode scalars (Python str indices)."""
    out = []
    for s in spans:
        i = text.find(s["text"])
        if i < 0:
            raise SystemExit(f"{where}: span {s['text']!r} not found in its text")
        out.append({"type": s["type"], "start": i, "end": i + len(s["text"])})
    return out


def record(labels_from, spans, category):
    return {"labels": {k: int(labels_from[k]) for k in LABELS}, "spans": spans, "category": category}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="Annotations/work")
    ap.add_argument("--out", default="Annotations")
    args = ap.parse_args()
    work = args.work

    manifest = {m["key"]: m for m in read_jsonl(os.path.join(work, "manifest.jsonl"))}
    texts = {}
    for name in sorted(os.listdir(os.path.join(work, "batches"))):
        for r in read_jsonl(os.path.join(work, "batches", name)):
            texts[r["key"]] = r["text"]
    first = read_folder(os.path.join(work, "pass1"))
    second_real = read_folder(os.path.join(work, "pass2"), "real-")
    second_written = read_folder(os.path.join(work, "pass2"), "written-")
    second_manifest = {}
    # Real texts, then written posts by round (second-written-manifest.jsonl, -2.jsonl, …).
    for path in [os.path.join(work, "second-manifest.jsonl")] + sorted(glob.glob(os.path.join(work, "second-written-manifest*.jsonl"))):
        if os.path.exists(path):
            second_manifest.update({m["key"]: m["first"] for m in read_jsonl(path)})
    adjudicated = {}
    path = os.path.join(args.out, "agreement", "adjudication.jsonl")
    if os.path.exists(path):
        adjudicated = {a["id"]: a for a in read_jsonl(path)}
    written = read_folder(os.path.join(work, "written"))
    # The second pass by first-pass key, for adjudications that keep its spans.
    second_of = {key1: (second_real.get(key2) or second_written.get(key2)) for key2, key1 in second_manifest.items()}

    # The review pass over single-annotated texts in classes the adjudication rules settle.
    reviewed = {k: r for k, r in read_folder(os.path.join(work, "review-out")).items() if r.get("changed")}
    review_changes = []

    def final(key, stand_id, rec, text, where):
        """The first pass, with the adjudicated labels and category where the passes disagreed, and the
        spans of the pass the adjudication sided with (`spans_from`: a = first, b = second); for a
        single-annotated text, the review's correction where it made one."""
        a = adjudicated.get(stand_id)
        if a is None and key in reviewed:
            r = reviewed[key]
            before = record(rec, offsets(text, rec.get("spans", []), where), rec["category"])
            after = record(r, offsets(text, r.get("spans", []), where + " (reviewed)"), r["category"])
            if after != before:
                review_changes.append({"id": stand_id, "rule": r.get("rule", ""), "before": before, "after": after})
            return after
        if a is None:
            return record(rec, offsets(text, rec.get("spans", []), where), rec["category"])
        chosen = {"a": rec, "b": second_of.get(key)}[a["spans_from"]]
        return record(a["labels"], offsets(text, chosen.get("spans", []), where + " (adjudicated)"), a["category"])

    real_out, ids = [], {}
    for key in sorted(first):
        m = manifest[key]
        text = texts[key]
        stand_id = f"{m['row']}@{m['start']}-{m['end']}"
        ids[key] = stand_id
        r = {"id": stand_id, "file": m["file"], "row": m["row"], "start": m["start"], "end": m["end"],
             "split": annotated_split(m["split"], m["row"]), "text_fnv": fnv1a64(text)}
        r.update(final(key, stand_id, first[key], text, f"pass1 {key}"))
        real_out.append(r)

    written_out = []
    for key in sorted(written):
        w = written[key]
        post_id = "w-" + key
        ids[key] = post_id
        r = {"id": post_id, "split": written_split(post_id), "text": w["text"], "register": w["register"]}
        r.update(final(key, post_id, w, w["text"], f"written {key}"))
        written_out.append(r)

    # Both passes over the doubly annotated texts, as each annotator left them.
    first_pass, second_pass = [], []
    for key2, key1 in sorted(second_manifest.items()):
        r2 = second_real.get(key2) or second_written.get(key2)
        r1 = first.get(key1) or written.get(key1)
        if r1 is None or r2 is None:
            continue
        text = texts.get(key1) or written[key1]["text"]
        kind = "written" if key1 in written else "real"
        for rec, out, where in ((r1, first_pass, key1), (r2, second_pass, key2)):
            row = {"id": ids[key1], "kind": kind}
            row.update(record(rec, offsets(text, rec.get("spans", []), where), rec["category"]))
            out.append(row)

    os.makedirs(os.path.join(args.out, "agreement"), exist_ok=True)
    for path, rows in ((os.path.join(args.out, "real.jsonl"), real_out),
                       (os.path.join(args.out, "written.jsonl"), written_out),
                       (os.path.join(args.out, "agreement", "first-pass.jsonl"), first_pass),
                       (os.path.join(args.out, "agreement", "second-pass.jsonl"), second_pass),
                       (os.path.join(args.out, "agreement", "review-changes.jsonl"), review_changes)):
        with open(path, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n")
    print(f"real {len(real_out)}, written {len(written_out)}, doubly annotated {len(first_pass)} "
          f"({len(adjudicated)} adjudicated); review changed {len(review_changes)} of {len(reviewed)} flagged")


if __name__ == "__main__":
    main()
