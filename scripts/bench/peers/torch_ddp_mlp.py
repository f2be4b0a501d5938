#!/usr/bin/env python3
"""PyTorch DistributedDataParallel (gloo) on the job `orrery` trains data-parallel:
jobs/fashion-mlp-dp.yaml's MLP (784-256-256-10, ReLU), Adam 1e-3 with cosine decay, global
batch 64 split over the ranks, one epoch of Fashion-MNIST from Orrery's data cache, then the
test accuracy. One thread per process. Prints samples/s counted from the first step to the
last (process start and data loading excluded) and the test accuracy.

    .venv-peers/bin/python scripts/bench/peers/torch_ddp_mlp.py --workers 2 [--epochs 1] [--json]

Run by hand, never by CI.
"""
import argparse
import gzip
import json
import os
import time

import numpy as np


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(cache, split):
    images = idx(f"{cache}/fashion-mnist/{split}-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    labels = idx(f"{cache}/fashion-mnist/{split}-labels-idx1-ubyte.gz").astype(np.int64)
    return images, labels


def rank_main(rank, world, port, epochs, seed, queue):
    """`port` is a port on this host, or ADDRESS:PORT of rank 0 on another."""
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    torch.set_num_threads(1)
    if world > 1:
        master = port if isinstance(port, str) else f"127.0.0.1:{port}"
        dist.init_process_group("gloo", init_method=f"tcp://{master}", rank=rank, world_size=world)
    cache = os.environ.get("ORRERY_DATA", os.path.expanduser("~/.cache/orrery"))
    train_x, train_y = (torch.from_numpy(a) for a in load(cache, "train"))
    test_x, test_y = (torch.from_numpy(a) for a in load(cache, "t10k"))
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    if world > 1:
        model = DistributedDataParallel(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    global_batch = 64
    steps_per_epoch = len(train_x) // global_batch
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps_per_epoch * epochs)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    if world > 1:
        dist.barrier()
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(train_x), generator=generator)
        for step in range(steps_per_epoch):
            batch = order[step * global_batch:(step + 1) * global_batch]
            mine = batch[rank::world]  # this rank's shard of the global batch
            optimizer.zero_grad(set_to_none=True)
            # DDP averages the ranks' gradients: the gradient of the global batch's mean loss.
            loss = loss_fn(model(train_x[mine]), train_y[mine])
            loss.backward()
            optimizer.step()
            schedule.step()
    elapsed = time.perf_counter() - start
    with torch.no_grad():
        accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
    queue.put((rank, elapsed, steps_per_epoch * epochs * global_batch, accuracy))
    if world > 1:
        dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rank", type=int, help="run only this rank (one process per host); rank 0 listens at --master")
    parser.add_argument("--master", default="127.0.0.1:29600", help="with --rank: rank 0's ADDRESS:PORT")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.rank is not None:
        # One rank of a gang across hosts (scripts/bench/netns-data-parallel).
        import queue as queues
        results = queues.Queue()
        rank_main(args.rank, args.workers, args.master, args.epochs, args.seed, results)
        _, elapsed, samples, accuracy = results.get()
        row = {"system": "torch DDP gloo", "workers": args.workers, "rank": args.rank,
               "samples_per_second": samples / elapsed, "seconds": elapsed, "test_accuracy": accuracy}
        print(json.dumps(row))
        return
    import torch.multiprocessing as mp
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = 29600 + os.getpid() % 1000
    procs = [ctx.Process(target=rank_main, args=(r, args.workers, port, args.epochs, args.seed, queue)) for r in range(args.workers)]
    for p in procs:
        p.start()
    results = sorted(queue.get() for _ in procs)
    for p in procs:
        p.join()
    elapsed = max(r[1] for r in results)
    samples = results[0][2]
    row = {"system": "torch DDP gloo", "workers": args.workers, "samples_per_second": samples / elapsed,
           "seconds": elapsed, "test_accuracy": results[0][3]}
    print(json.dumps(row) if args.json else
          f"torch DDP (gloo), {args.workers} workers: {row['samples_per_second']:.0f} samples/s, "
          f"{elapsed:.1f} s, test accuracy {row['test_accuracy']:.4f}")


if __name__ == "__main__":
    main()
