"""What the PyTorch peer scripts share: their command line (--threads, --repeats, --json),
medians of timed runs after a warm-up, and the rows printed in the format
scripts/bench/versus-torch reads (the same as `orrery bench … --json`)."""
import argparse
import json
import statistics

import torch


def arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    return args


def measure(name, unit, body, repeats):
    body()
    runs = [body() for _ in range(repeats)]
    return {"name": name, "unit": unit, "median": statistics.median(runs), "runs": runs}


def report(rows, as_json):
    if as_json:
        print(json.dumps(rows, sort_keys=True))
    else:
        for row in rows:
            print(f"{row['name']:40} {row['median']:10.1f} {row['unit']}")
