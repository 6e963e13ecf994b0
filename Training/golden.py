"""Writes the reference logits Discern's Swift encoder is tested against: PyTorch (Training/bert.py)
running a tuned folder's layers over the base embeddings, on the encoder tests' reference texts.

    python Training/golden.py --base .models/all-MiniLM-L6-v2 --tuned Models/default/encoder \
        --texts Tests/Fixtures/encoder/embeddings.json --out Tests/Fixtures/encoder/student-logits.json
"""
import argparse
import json
import os
import sys

import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bert  # noqa: E402
from train import gloss  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--tuned", required=True)
    parser.add_argument("--texts", required=True, help="a JSON list of objects with a 'text'")
    parser.add_argument("--out", required=True)
    parser.add_argument("--discern", default=os.path.join(".build", "debug", "discern"),
                        help="for a student that reads glossed text: the binary whose `gloss` builds it")
    parser.add_argument("--lexicon", default=os.path.join("Lexicons", "cesm.yaml"))
    args = parser.parse_args()
    config, state = bert.load_base(args.base)
    with open(f"{args.tuned}/config.json") as f:
        tuned = json.load(f)
    weights = {k: v.float() for k, v in load_file(f"{args.tuned}/model.safetensors").items()}
    model = bert.Encoder(config, {k: v for k, v in state.items() if k.startswith("embeddings.")},
                         tuned["num_hidden_layers"], tuned["labels"])
    model.load_layers(weights, range(tuned["num_hidden_layers"]))
    model.heads.weight.data.copy_(weights["heads.weight"])
    model.heads.bias.data.copy_(weights["heads.bias"])
    model.eval()
    tokenizer = Tokenizer.from_file(f"{args.base}/tokenizer.json")
    tokenizer.enable_truncation(128)
    tokenizer.no_padding()  # tokenizer.json pads to 128 by default; Discern never pads
    with open(args.texts) as f:
        texts = [case["text"] for case in json.load(f)]
    # A student that learned from glossed messages reads them glossed (Discern does the same).
    glossed = tuned.get("gloss", "none") != "none"
    inputs = gloss(texts, args.discern, args.lexicon) if glossed else texts
    cases = []
    with torch.no_grad():
        for text, source in zip(texts, inputs):
            ids = torch.tensor([tokenizer.encode(source).ids])
            logits, _ = model(ids, torch.ones_like(ids, dtype=torch.bool))
            case = {"text": text, "logits": [round(float(x), 5) for x in logits[0]]}
            if source != text:
                case["input"] = source
            cases.append(case)
    with open(args.out, "w") as f:
        json.dump({"labels": tuned["labels"], "cases": cases}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {args.out}")


if __name__ == "__main__":
    main()
