"""Packs what train.py reads into one folder small enough to carry to a GPU machine (64 MiB): the base
model in F16 with its config and tokenizer, its fingerprint (of the F32 original, which Discern
loads), and the corpus's train and dev rows gzipped.

    python Training/pack.py --corpus ../shared/data/corpus --base .models/all-MiniLM-L6-v2 --out .train-pack
    # there: python3 Training/train.py --corpus .train-pack/corpus --base .train-pack/base \
    #          --base-fingerprint $(cat .train-pack/base/fingerprint) ...

Training from the F16 copy differs from training on the original only in the frozen embeddings'
rounding (about 5e-4 relative), far below the encoder's int8 noise.
"""
import argparse
import glob
import gzip
import json
import os
import shutil
import sys

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bert  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--base", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(f"{args.out}/base", exist_ok=True)
    os.makedirs(f"{args.out}/corpus", exist_ok=True)
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(f"{args.base}/{name}", f"{args.out}/base/{name}")
    tensors = {k: v.half().contiguous() for k, v in load_file(f"{args.base}/model.safetensors").items()}
    save_file(tensors, f"{args.out}/base/model.safetensors")
    with open(f"{args.out}/base/fingerprint", "w") as f:
        f.write(bert.base_fingerprint(args.base))
    for path in sorted(glob.glob(f"{args.corpus}/*.jsonl")):
        with open(path) as f, gzip.open(f"{args.out}/corpus/{os.path.basename(path)}.gz", "wt") as out:
            for line in f:
                row = json.loads(line)
                if row["split"] in ("train", "dev"):
                    keep = {k: row[k] for k in ("id", "split", "text", "labels", "weak") if k in row}
                    out.write(json.dumps(keep) + "\n")
    total = sum(os.path.getsize(p) for p in glob.glob(f"{args.out}/**/*", recursive=True) if os.path.isfile(p))
    print(f"packed {args.out}: {total / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
