#!/usr/bin/env python3
"""Summarizes scripts/results/nas's runs: per strategy and seed, the best and median dev
accuracy, the epochs spent, the front's hypervolume and its fastest point within 1 point of
its best; per strategy the mean over seeds. `--best` prints only the run whose best dev
accuracy is highest (the one retrained)."""
import json, os, statistics, sys

out = sys.argv[1]
strategies = ["random", "evolution", "asha", "hyperband"]
runs = {}
for strategy in strategies:
    for seed in (1, 2, 3):
        path = os.path.join(out, f"{strategy}-s{seed}", "report.json")
        if os.path.exists(path):
            runs[(strategy, seed)] = json.load(open(path))

if "--best" in sys.argv:
    (strategy, seed), _ = max(runs.items(), key=lambda kv: kv[1]["best"]["devAccuracy"])
    print(f"{strategy}-s{seed}")
    sys.exit(0)

print("| strategy | seed | trials | epochs | best dev | median dev (full budget) | hypervolume | front: fastest within 1 pt of its best (latency ratio) |")
print("|---|---:|---:|---:|---:|---:|---:|---|")
for (strategy, seed), r in sorted(runs.items(), key=lambda kv: (strategies.index(kv[0][0]), kv[0][1])):
    front = r["front"]
    fastest = ""
    if front:
        top = front[0]
        near = [p for p in front if p["devAccuracy"] >= top["devAccuracy"] - 0.01]
        f = min(near, key=lambda p: p["latencyMs"])
        ratio = f["latencyMs"] / top["latencyMs"] if top["latencyMs"] > 0 else float("nan")
        fastest = f"{100*f['devAccuracy']:.2f}% at {ratio:.2f}x ({f['parameters']} params)"
    median = r.get("medianDevAccuracy")
    print(f"| {strategy} | {seed} | {r['trials']} | {r['epochsTrained']} | {100*r['best']['devAccuracy']:.2f}% | "
          f"{100*median:.2f}% | {r['hypervolume']:.4f} | {fastest} |")
print()
print("| strategy | mean best dev over seeds | mean epochs | mean gap best − median |")
print("|---|---:|---:|---:|")
for strategy in strategies:
    rs = [r for (s, _), r in runs.items() if s == strategy]
    if not rs:
        continue
    best = statistics.mean(r["best"]["devAccuracy"] for r in rs)
    epochs = statistics.mean(r["epochsTrained"] for r in rs)
    gap = statistics.mean(r["best"]["devAccuracy"] - r["medianDevAccuracy"] for r in rs)
    print(f"| {strategy} | {100*best:.2f}% | {epochs:.0f} | {100*gap:.2f} |")
