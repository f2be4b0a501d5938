"""PyTorch CPU on the rows `orrery bench engine` measures, the same way.

sgemm: torch.mm of n×n float32 matrices, GFLOP/s. MLP train step: forward, cross-entropy,
backward and SGD (momentum 0.9) of 784-256-256-10 on a fixed random batch, samples/s.
Threads: torch.set_num_threads(--threads). Medians of --repeats timed runs after a warm-up.

    .venv-peers/bin/python scripts/bench/peers/torch_engine.py --threads 1 --json
"""
import time

import torch

from peer_bench import arguments, measure_all, report


def sgemm(n):
    a, b = torch.rand(n, n), torch.rand(n, n)
    iterations = max(1, 4_000_000_000 // (2 * n ** 3))
    start = time.perf_counter()
    for _ in range(iterations):
        torch.mm(a, b)
    return iterations * 2 * n ** 3 / (time.perf_counter() - start) / 1e9


def mlp_steps(batch):
    torch.manual_seed(2)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = torch.rand(batch, 784)
    labels = torch.arange(batch) % 10
    loss_fn = torch.nn.CrossEntropyLoss()
    steps = max(20, 40_000 // batch)
    start = time.perf_counter()
    for _ in range(steps):
        loss = loss_fn(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return steps * batch / (time.perf_counter() - start)


def adam_steps():
    """Adam steps/s over the MLP's parameters with gradients in place (PyTorch's default
    implementation on CPU, foreach, and its fused one: the faster is reported)."""
    torch.manual_seed(4)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    for p in model.parameters():
        p.grad = torch.rand_like(p) * 0.02 - 0.01
    best = 0.0
    for options in ({}, {"fused": True}):
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, **options)
        steps = 2_000
        start = time.perf_counter()
        for _ in range(steps):
            optimizer.step()
        best = max(best, steps / (time.perf_counter() - start))
    return best


def encoder(backward):
    torch.manual_seed(3)
    layer = torch.nn.TransformerEncoderLayer(
        d_model=384, nhead=12, dim_feedforward=1536, dropout=0.0, activation="gelu", batch_first=True)
    x = torch.rand(16, 32, 384) * 2 - 1
    iterations = 6 if backward else 15
    start = time.perf_counter()
    for _ in range(iterations):
        if backward:
            layer.zero_grad()
            layer(x).sum().backward()
        else:
            with torch.no_grad():
                layer(x)
    return iterations * 16 / (time.perf_counter() - start)



def main():
    args = arguments()
    cases = [(f"sgemm {n}", "GFLOP/s", lambda n=n: sgemm(n)) for n in (256, 512, 1024, 2048)]
    cases += [(f"mlp train step, batch {b}", "samples/s", lambda b=b: mlp_steps(b)) for b in (64, 256)]
    cases.append(("adam step, mlp 784-256-256-10", "steps/s", adam_steps))
    cases.append(("encoder layer forward", "sequences/s", lambda: encoder(False)))
    cases.append(("encoder layer forward+backward", "sequences/s", lambda: encoder(True)))
    rows = measure_all(cases, args)
    report(rows, args.json)


if __name__ == "__main__":
    main()
