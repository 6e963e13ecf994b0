"""The corpus rows behind the annotated test split: every Python step that learns, fits, calibrates or
selects leaves them out (Discern's Swift trainer does the same through AnnotatedSet.heldOutRows)."""
import json
import os

DEFAULT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "real.jsonl")


def held_out_rows(path=DEFAULT):
    """Corpus row ids whose annotated text is in the test split, and the rows that hold the same text
    under another id (heldout-duplicates.jsonl beside it); empty when there is no stand-off file."""
    if not os.path.exists(path):
        return set()
    with open(path, encoding="utf-8") as f:
        rows = {r["row"] for r in map(json.loads, filter(str.strip, f)) if r["split"] == "test"}
    duplicates = os.path.join(os.path.dirname(path), "heldout-duplicates.jsonl")
    if os.path.exists(duplicates):
        with open(duplicates, encoding="utf-8") as f:
            rows |= {r["row"] for r in map(json.loads, filter(str.strip, f))}
    return rows
