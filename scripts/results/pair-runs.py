#!/usr/bin/env python3
"""Paired differences between prompt-tune variants that ran in different jobs on the same
problems, seeds and examples (the same `problems`, `shots`, `test` and `seeds`): each run of
the first variant is matched with the second's by (problem, seed), and the mean difference
in test accuracy is printed with a 95% interval (1.96 standard errors over the pairs).
Standard library only.

    pair-runs.py RUNS_A.csv VARIANT_A RUNS_B.csv VARIANT_B
"""
import csv
import math
import statistics
import sys


def accuracies(path, variant):
    rows = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["variant"] == variant:
                rows[(row["problem"], row["seed"])] = float(row["accuracy"])
    return rows


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    a, b = accuracies(sys.argv[1], sys.argv[2]), accuracies(sys.argv[3], sys.argv[4])
    keys = sorted(set(a) & set(b))
    if len(keys) < 2:
        sys.exit(f"pair-runs: {len(keys)} runs in common; need at least 2 (same problems and seeds?)")
    if len(keys) != len(a) or len(keys) != len(b):
        print(f"pair-runs: warning: {len(a)} and {len(b)} runs, {len(keys)} in common", file=sys.stderr)
    d = [100 * (a[k] - b[k]) for k in keys]
    mean, half = statistics.mean(d), 1.96 * statistics.stdev(d) / math.sqrt(len(d))
    print(f"{sys.argv[2]} − {sys.argv[4]}: {mean:+.2f} [{mean - half:+.2f}, {mean + half:+.2f}] points over {len(d)} paired runs; "
          f"means {100 * statistics.mean(a[k] for k in keys):.2f}% and {100 * statistics.mean(b[k] for k in keys):.2f}%")


if __name__ == "__main__":
    main()
