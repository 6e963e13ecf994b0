#!/usr/bin/env python3
"""Wall time of `discern explain MESSAGE` for one message, process start included (int8 encoder,
the shipped rules, policy and model): what a moderator waits for at a prompt. Median of N runs,
beside `discern --version`-like startup of the same binary (`discern --help`) in the same run.

    python3 Benchmarks/bench_explain.py --discern .build/release/discern [--runs 20]
"""

import argparse
import statistics
import subprocess
import time

MESSAGES = [
    "Lost all my progress. Might as well just throw myself off a cliff 😂",
    "I think I'm going to hurt myself tonight",
    "2 years clean today and proud of myself #recoveryjourney",
]


def wall(command, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--discern", default=".build/release/discern")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    wall([args.discern, "explain", MESSAGES[0]], 3)  # warm the page cache
    print("| command | median ms | min ms |")
    print("|---|---|---|")
    median, low = wall([args.discern, "--help"], args.runs)
    print(f"| discern --help (process start) | {median:.0f} | {low:.0f} |")
    for message in MESSAGES:
        median, low = wall([args.discern, "explain", "--precision", "int8", message], args.runs)
        print(f"| discern explain \"{message[:40]}…\" | {median:.0f} | {low:.0f} |")


if __name__ == "__main__":
    main()
