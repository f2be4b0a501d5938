#!/usr/bin/env python3
"""torch.distributed.pipelining on CPU over gloo: the peer of `orrery`'s pipeline workload
(scripts/bench/pipeline). The same deep MLP (784 → hidden… → 10 on Fashion-MNIST from
Orrery's data cache), the same units per stage, global batch and micro-batches, Adam 1e-3;
ScheduleGPipe or Schedule1F1B on one process per stage, or the whole model in one process
(--stages 1). One thread per process. Prints samples/s counted from the first step to the
last (process start, data loading and stage set-up excluded) and each stage's peak RSS.

    .venv-peers/bin/python scripts/bench/peers/torch_pipeline.py --stages 2 --schedule 1f1b \
        --micro-batches 8 --hidden 1024 1024 1024 1024 1024 1024 --units 4 3 --batch 256 --steps 40 [--json]

Run by hand, never by CI.
"""
import argparse
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from torch_ddp_mlp import load  # noqa: E402


def build(hidden, seed):
    import torch
    torch.manual_seed(seed)
    sizes = [784] + hidden + [10]
    units = []
    for i in range(len(sizes) - 1):
        layers = [torch.nn.Linear(sizes[i], sizes[i + 1])]
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
        units.append(torch.nn.Sequential(*layers))
    return units


def batches(args):
    import numpy as np
    cache = os.environ.get("ORRERY_DATA", os.path.expanduser("~/.cache/orrery"))
    x, y = load(cache, "train")
    order = np.random.default_rng(args.seed).permutation(len(x))
    for step in range(args.steps):
        idx = order[(step * args.batch) % (len(x) - args.batch):][:args.batch]
        yield x[idx], y[idx]


def rank_main(rank, args, queue):
    import torch
    import torch.distributed as dist
    from torch.distributed.pipelining import PipelineStage, Schedule1F1B, ScheduleGPipe

    torch.set_num_threads(1)
    units = build(args.hidden, args.seed)
    loss_fn = torch.nn.CrossEntropyLoss()
    data = [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in batches(args)]
    if args.stages == 1:
        model = torch.nn.Sequential(*units)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        start = time.perf_counter()
        for x, y in data:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
        seconds = time.perf_counter() - start
        queue.put((rank, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
        return
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{args.port}", rank=rank, world_size=args.stages)
    cuts = [0]
    for count in args.units:
        cuts.append(cuts[-1] + count)
    stage_module = torch.nn.Sequential(*units[cuts[rank]:cuts[rank + 1]])
    stage = PipelineStage(stage_module, rank, args.stages, torch.device("cpu"))
    schedule_type = ScheduleGPipe if args.schedule == "gpipe" else Schedule1F1B
    schedule = schedule_type(stage, n_microbatches=args.micro_batches, loss_fn=loss_fn)
    optimizer = torch.optim.Adam(stage_module.parameters(), lr=1e-3)
    dist.barrier()
    start = time.perf_counter()
    for x, y in data:
        optimizer.zero_grad()
        if rank == 0:
            schedule.step(x)
        elif rank == args.stages - 1:
            schedule.step(target=y, losses=[])
        else:
            schedule.step()
        optimizer.step()
    dist.barrier()
    seconds = time.perf_counter() - start
    queue.put((rank, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stages", type=int, default=2)
    parser.add_argument("--schedule", choices=["gpipe", "1f1b"], default="1f1b")
    parser.add_argument("--micro-batches", type=int, default=8)
    parser.add_argument("--hidden", type=int, nargs="+", default=[1024] * 6)
    parser.add_argument("--units", type=int, nargs="+", default=None)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=29533)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    units = len(args.hidden) + 1
    if args.units is None:
        args.units = [units // args.stages + (1 if s < units % args.stages else 0) for s in range(args.stages)]
    import torch.multiprocessing as mp
    context = mp.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=rank_main, args=(rank, args, queue)) for rank in range(args.stages)]
    for p in processes:
        p.start()
    results = sorted(queue.get(timeout=1800) for _ in processes)
    for p in processes:
        p.join()
    seconds = max(r[1] for r in results)
    line = {"system": "torch.distributed.pipelining" if args.stages > 1 else "torch (one process)", "schedule": args.schedule,
            "stages": args.stages, "micro_batches": args.micro_batches, "samples_per_second": args.steps * args.batch / seconds,
            "peak_rss_mb": [r[2] / 1024 for r in results]}
    shape = f"{args.schedule} S={args.stages} M={args.micro_batches}" if args.stages > 1 else "whole batches"
    print(json.dumps(line) if args.json else
          f"{line['system']} {shape}: {line['samples_per_second']:.0f} samples/s, "
          f"peak RSS per stage {', '.join(f'{m:.0f}' for m in line['peak_rss_mb'])} MiB")


if __name__ == "__main__":
    main()
