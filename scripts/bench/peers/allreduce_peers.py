#!/usr/bin/env python3
"""Peer all-reduce benchmarks for `orrery bench allreduce`, nccl-tests style rows.

  gloo: .venv-peers/bin/python scripts/bench/peers/allreduce_peers.py gloo --workers 2
  one gloo rank of a ring across hosts (scripts/bench/netns-allreduce):
        allreduce_peers.py gloo-rank --rank R --workers N --master ADDR:PORT --sizes ... --result-file F
  MPI:  mpirun -n 2 --oversubscribe [--mca btl tcp,self | --mca btl vader,self] \
          python3 scripts/bench/peers/allreduce_peers.py mpi

Same sizes (4 KB .. 64 MB, x4), same timing rule as Orrery's bench: warm-up, then about
`--seconds` of calls per size, the slowest rank's median reported. Run by hand, never by CI.
"""
import argparse
import json
import os
import statistics
import time

SIZES = [4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20]


def time_sizes(allreduce, make_buffer, agree_calls, seconds, sizes=SIZES):
    rows = []
    for size in sizes:
        buffer = make_buffer(size // 4)
        for _ in range(3):
            allreduce(buffer)
        start = time.perf_counter()
        allreduce(buffer)
        once = max(1e-6, time.perf_counter() - start)
        calls = agree_calls(min(10_000, max(5, int(seconds / once))))
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            allreduce(buffer)
            times.append((time.perf_counter() - start) * 1e6)
        rows.append({"bytes": size, "calls": calls, "median_us": statistics.median(times)})
    return rows


def report(name, world, per_rank, as_json=False):
    if as_json:
        slowest = [max((rows[i] for rows in per_rank), key=lambda r: r["median_us"]) for i in range(len(per_rank[0]))]
        print(json.dumps({"system": name, "workers": world, "rows": slowest}))
        return
    print(f"# {name}: {world} ranks, slowest rank's median")
    print(f"{'size (B)':>12} {'time (us)':>12} {'algbw GB/s':>11} {'busbw GB/s':>11}")
    for index in range(len(per_rank[0])):
        row = max((rows[index] for rows in per_rank), key=lambda r: r["median_us"])
        algbw = row["bytes"] / (row["median_us"] * 1e-6) / 1e9
        print(f"{row['bytes']:>12} {row['median_us']:>12.1f} {algbw:>11.3f} {algbw * 2 * (world - 1) / world:>11.3f}")


def gloo_rows(rank, world, master, seconds, sizes=SIZES):
    """This rank's timed rows in a gloo group whose rank 0 listens at `master` (ADDRESS:PORT)."""
    import torch
    import torch.distributed as dist
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://{master}", rank=rank, world_size=world)

    def agree(calls):
        t = torch.tensor([calls], dtype=torch.int64)
        dist.broadcast(t, 0)
        return int(t.item())

    rows = time_sizes(lambda b: dist.all_reduce(b), lambda n: torch.ones(n, dtype=torch.float32), agree, seconds, sizes)
    dist.barrier()
    dist.destroy_process_group()
    return rows


def gloo_rank(rank, world, port, seconds, queue):
    queue.put((rank, gloo_rows(rank, world, f"127.0.0.1:{port}", seconds)))


def run_gloo(workers, seconds, as_json):
    import torch.multiprocessing as mp
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = 29500 + os.getpid() % 1000
    procs = [ctx.Process(target=gloo_rank, args=(r, workers, port, seconds, queue)) for r in range(workers)]
    for p in procs:
        p.start()
    results = dict(queue.get() for _ in procs)
    for p in procs:
        p.join()
    report("torch.distributed gloo", workers, [results[r] for r in range(workers)], as_json)


def run_gloo_rank(rank, world, master, seconds, sizes, result_file):
    """One gloo rank started by hand (scripts/bench/netns-allreduce puts each in a network
    namespace of its own)."""
    rows = gloo_rows(rank, world, master, seconds, sizes)
    with open(result_file, "w") as out:
        json.dump(rows, out)


def run_mpi(seconds, as_json, sizes=SIZES):
    import numpy as np
    from mpi4py import MPI
    comm = MPI.COMM_WORLD

    def allreduce(buffer):
        comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)

    rows = time_sizes(allreduce, lambda n: np.ones(n, dtype=np.float32), lambda c: comm.bcast(c, root=0), seconds, sizes)
    everything = comm.gather(rows, root=0)
    if comm.rank == 0:
        report(f"MPI_Allreduce ({MPI.Get_library_version().splitlines()[0]})", comm.size, everything, as_json)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("peer", choices=["gloo", "mpi", "gloo-rank"])
    parser.add_argument("--rank", type=int, default=0)
    parser.add_argument("--master", default="127.0.0.1:29500", help="gloo-rank: rank 0's ADDRESS:PORT")
    parser.add_argument("--sizes", type=int, nargs="*", default=SIZES)
    parser.add_argument("--result-file", help="gloo-rank: where this rank writes its rows (JSON)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--json", action="store_true", help="one JSON line: the slowest rank's row per size")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.peer == "gloo-rank":
        run_gloo_rank(args.rank, args.workers, args.master, args.seconds, args.sizes, args.result_file)
    elif args.peer == "gloo":
        run_gloo(args.workers, args.seconds, args.json)
    else:
        run_mpi(args.seconds, args.json, args.sizes)
