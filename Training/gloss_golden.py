#!/usr/bin/env python3
"""Writes Tests/Fixtures/encoder/gloss-tokens.json: for messages with emoji, the text the encoder reads
(`discern gloss`, which training also uses) and the token ids Hugging Face's tokenizer gives it. The
Swift tests hold Discern's own gloss and WordPiece tokenizer to both, so training and inference read
identical ids.

usage: python Training/gloss_golden.py --discern .build/debug/discern --base .models/all-MiniLM-L6-v2
"""
import argparse
import json
import os
import sys

from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import gloss  # noqa: E402

MESSAGES = [
    "kill me now lol 😂",
    "kill me now lol 😂😂😂😂😂😂😂😂😂😂😂😂😂😂",
    "everything hurts 🥀💔",
    "I have enough saved up. tonight. 🔪",
    "lol ok 🙃",
    "👍🏽 sounds good",
    "🕊 rest easy grandpa 🕊️",
    "my phone died again 💀💀",
    "woman coder 👩‍💻 vibes ❤️",
    "go team 🇬🇧 1️⃣",
    "no emoji at all",
    "🌈🙏😂🥀⚰️🩸💉 seven distinct",
    "Ça va? 😅 — über-tired",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--discern", default=os.path.join(".build", "debug", "discern"))
    ap.add_argument("--base", default=os.path.join(".models", "all-MiniLM-L6-v2"))
    ap.add_argument("--lexicon", default=os.path.join("Lexicons", "cesm.yaml"))
    ap.add_argument("--out", default=os.path.join("Tests", "Fixtures", "encoder", "gloss-tokens.json"))
    args = ap.parse_args()
    tokenizer = Tokenizer.from_file(os.path.join(args.base, "tokenizer.json"))
    tokenizer.enable_truncation(128)
    tokenizer.no_padding()
    glossed = gloss(MESSAGES, args.discern, args.lexicon)
    cases = [{"text": m, "glossed": g, "ids": tokenizer.encode(g).ids} for m, g in zip(MESSAGES, glossed)]
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {args.out}")


if __name__ == "__main__":
    main()
