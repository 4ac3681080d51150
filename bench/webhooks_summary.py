"""Medians and ratios of a bench/webhooks.sh run: python3 bench/webhooks_summary.py [JSONL]."""

import json
import statistics
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "bench/results/webhooks.jsonl"
rows = [json.loads(line) for line in open(path)]
for backend in ("postgres", "sqlite"):
    mine = [r for r in rows if r["backend"] == backend]
    if not mine:
        continue
    for mode in ("outbox", "delivering"):
        def rates(kind):
            return [r["rps"] for r in mine if r["scenario"].startswith(f"{kind}-{mode}-")]
        none, one = rates("none"), rates("one")
        if none and one:
            n, o = statistics.median(none), statistics.median(one)
            print(f"{backend:8} {mode:10} none {n:7.0f}/s {none}  one {o:7.0f}/s {one}  "
                  f"ratio {100 * o / n:5.1f}%")
    for r in mine:
        if r["scenario"] == "deliveries":
            print(f"{backend:8} deliveries {r['received']} in {r['seconds']} s: "
                  f"{r['per_second']}/s")
