"""What the PyTorch peer scripts share: their command line (--threads, --repeats, --json,
--filter),
medians of timed runs after a warm-up, and the rows printed in the format
scripts/bench/versus-torch reads (the same as `orrery bench … --json`)."""
import argparse
import json
import statistics

import torch


def arguments(extra=None):
    """The shared options; `extra(parser)` may add a script's own."""
    parser = argparse.ArgumentParser()
    if extra:
        extra(parser)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--filter", help="only rows whose name contains this text, as `orrery bench --filter`")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    return args


def measure(name, unit, body, repeats):
    body()
    runs = [body() for _ in range(repeats)]
    return {"name": name, "unit": unit, "median": statistics.median(runs), "runs": runs}


def measure_all(cases, args):
    """Measures each (name, unit, body) whose name contains --filter (all without it)."""
    return [measure(name, unit, body, args.repeats) for name, unit, body in cases if not args.filter or args.filter in name]


def report(rows, as_json):
    if as_json:
        print(json.dumps(rows, sort_keys=True))
    else:
        for row in rows:
            print(f"{row['name']:40} {row['median']:10.1f} {row['unit']}")
