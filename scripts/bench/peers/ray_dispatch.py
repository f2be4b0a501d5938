"""Ray's no-op task dispatch, measured the way `orrery bench dispatch` measures Orrery's.

Throughput: submit N no-op remote tasks at once and wait for all of them.
Round trip: one task at a time, `ray.get(noop.remote())`, timed per task.
Each is repeated and the median reported. Ray runs with as many worker processes as
--workers (num_cpus), on this one machine, like Orrery's local cluster.

--dashboard runs Ray with its dashboard (ray[default]) and reads it the way
`orrery bench dispatch --http on` reads Orrery's: the cluster status and the job list every
second, and the node summary every 5 s, while the runs go on (Ray 2.60's dashboard wants
the bearer token it keeps in ~/.ray/auth_token).

    .venv-peers/bin/python scripts/bench/peers/ray_dispatch.py --workers 2 --json [--dashboard]
"""
import argparse
import json
import os
import statistics
import threading
import time
import urllib.request

import ray


@ray.remote
def noop():
    return None


def read_dashboard(url, stop):
    """An open dashboard and a metrics scraper, until `stop` is set."""
    path = os.path.expanduser("~/.ray/auth_token")
    headers = {"Authorization": "Bearer " + open(path).read().strip()} if os.path.exists(path) else {}
    tick = 0
    while not stop.is_set():
        paths = ["/api/cluster_status", "/api/jobs/"] + (["/nodes?view=summary"] if tick % 5 == 0 else [])
        for p in paths:
            try:
                urllib.request.urlopen(urllib.request.Request("http://" + url + p, headers=headers), timeout=10).read()
            except Exception:
                pass
        tick += 1
        stop.wait(1.0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--latency-tasks", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--dashboard", action="store_true")
    args = parser.parse_args()

    context = ray.init(num_cpus=args.workers, include_dashboard=args.dashboard, logging_level="ERROR")
    ray.get([noop.remote() for _ in range(1000)])  # start the worker processes
    stop = threading.Event()
    if args.dashboard:
        threading.Thread(target=read_dashboard, args=(context.dashboard_url, stop), daemon=True).start()

    throughput, p50, p99 = [], [], []
    for run in range(args.repeats):
        start = time.perf_counter()
        ray.get([noop.remote() for _ in range(args.tasks)])
        throughput.append(args.tasks / (time.perf_counter() - start))

        samples = []
        for _ in range(args.latency_tasks):
            t0 = time.perf_counter()
            ray.get(noop.remote())
            samples.append((time.perf_counter() - t0) * 1e6)
        samples.sort()
        p50.append(samples[len(samples) // 2])
        p99.append(samples[min(len(samples) - 1, len(samples) * 99 // 100)])
        if not args.json:
            print(f"run {run + 1}: {throughput[-1]:.0f} tasks/s; round trip p50 {p50[-1]:.0f} µs, p99 {p99[-1]:.0f} µs")

    stop.set()
    row = {
        "system": f"ray {ray.__version__}" + (" with its dashboard" if args.dashboard else ""),
        "workers": args.workers,
        "tasks": args.tasks,
        "medianTasksPerSecond": statistics.median(throughput),
        "medianP50Micros": statistics.median(p50),
        "medianP99Micros": statistics.median(p99),
        "tasksPerSecond": throughput,
        "roundTripP50Micros": p50,
        "roundTripP99Micros": p99,
    }
    if args.json:
        print(json.dumps(row, sort_keys=True))
    else:
        print(f"ray dispatch, {args.workers} workers: median {row['medianTasksPerSecond']:.0f} tasks/s; "
              f"round trip p50 {row['medianP50Micros']:.0f} µs, p99 {row['medianP99Micros']:.0f} µs")
    ray.shutdown()


if __name__ == "__main__":
    main()
