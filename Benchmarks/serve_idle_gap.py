#!/usr/bin/env python3
"""One message at a time against a running `discern serve`, back to back or with an idle gap between
requests, and the server's CPU time per request from /proc: how much an idle server's sleeping threads
add to one message's latency, and whether an idle server stays idle (no thread spinning).

    discern serve --port 18200 --threads 2 &
    python3 Benchmarks/serve_idle_gap.py --port 18200 --pid $! --gaps 0,20 --requests 1500

Latency is timed around each request on one keep-alive connection (client overhead included).
"""
import argparse
import http.client
import json
import time


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, help="the server's pid, for its CPU time")
    parser.add_argument("--corpus", default="../shared/data/corpus/suicidal_keyword_tweets.jsonl")
    parser.add_argument("--gaps", default="0,20", help="idle milliseconds between requests, one pass each")
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    texts = [json.loads(line)["text"] for line in open(args.corpus, encoding="utf-8")][:2000]
    connection = http.client.HTTPConnection("127.0.0.1", args.port)
    for gap in [float(g) / 1000 for g in args.gaps.split(",")]:
        latencies = []
        before = cpu_seconds(args.pid) if args.pid else None
        for i in range(args.requests):
            body = json.dumps({"text": texts[i % len(texts)]})
            start = time.perf_counter()
            connection.request("POST", "/v1/moderate", body, {"Content-Type": "application/json"})
            connection.getresponse().read()
            latencies.append((time.perf_counter() - start) * 1000)
            if gap:
                time.sleep(gap)
        latencies.sort()
        line = f"gap {gap * 1000:.0f} ms, {args.requests} requests: p50 {latencies[len(latencies) // 2]:.2f} ms, " \
               f"p90 {latencies[int(len(latencies) * 0.9)]:.2f} ms, p99 {latencies[int(len(latencies) * 0.99)]:.2f} ms"
        if before is not None:
            line += f", server CPU {1000 * (cpu_seconds(args.pid) - before) / args.requests:.2f} ms/request"
        print(line)


if __name__ == "__main__":
    main()
