#!/usr/bin/env python3
"""The NAS peers (issue 18): jobs/nas-asha.yaml's space, trial and budget under Ray Tune's
ASHA scheduler and under Optuna with its Hyperband pruner, training the same architectures
in PyTorch (CPU, one thread per trial, two trials at a time), started in the order Orrery
starts them (the same SplitMix64 draw of the space), on the same Fashion-MNIST split
as Orrery: a SplitMix64 permutation of the training images (split_seed 7), the first 4,000
for dev, the next 6,000 trained on; cosine learning rate over 9 epochs; dev accuracy after
every epoch. Both stop once the trials have trained `--budget` epochs in all.

Prints wall time, trials started, epochs trained, trials started per hour and the best dev
accuracy among trials trained the full 9 epochs.

    .venv-peers/bin/python scripts/bench/peers/nas_peers.py --system ray|optuna [--budget 45] [--seed 1] [--json]
    ... --fixed 12 --fixed-epochs 3   the first 12 configurations for 3 epochs each, no scheduler:
                                      the same trials on every system (engine and dispatch alone)

Run by hand (scripts/bench/nas), never by CI.
"""
import argparse
import gzip
import json
import math
import os
import threading
import time

import numpy as np

MASK = (1 << 64) - 1
EPOCHS, DEV, TRAIN, SPLIT_SEED = 9, 4000, 6000, 7


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def split(count):
    """Orrery's TrialSplit: Fisher-Yates with SplitMix64, dev first, then the training images."""
    order = list(range(count))
    g = SplitMix64(SPLIT_SEED)
    for i in range(count - 1, 0, -1):
        j = g.next() % (i + 1)
        order[i], order[j] = order[j], order[i]
    return np.array(order[DEV:DEV + TRAIN]), np.array(order[:DEV])


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load():
    cache = os.environ.get("ORRERY_DATA", os.path.expanduser("~/.cache/orrery"))
    x = idx(f"{cache}/fashion-mnist/train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    y = idx(f"{cache}/fashion-mnist/train-labels-idx1-ubyte.gz").astype(np.int64)
    train, dev = split(len(x))
    return x[train], y[train], x[dev], y[dev]


# jobs/nas-*.yaml's space in its declared order: (name, values or ("int", lo, hi) or
# ("log", lo, hi), condition). Orrery draws a configuration parameter by parameter with
# SplitMix64(seed), skipping inactive ones; `orrery_stream` replays exactly that draw, so
# every system starts the same configurations in the same order.
SPACE = [
    ("family", ["cnn", "mlp"], None),
    ("depth", ("int", 1, 3), lambda c: c.get("family") == "mlp"),
    ("width_1", [64, 128, 256, 512], lambda c: c.get("family") == "mlp"),
    ("width_2", [64, 128, 256, 512], lambda c: c.get("depth", 0) >= 2),
    ("width_3", [64, 128, 256], lambda c: c.get("depth", 0) >= 3),
    ("blocks", ("int", 1, 3), lambda c: c.get("family") == "cnn"),
    ("channels_1", [8, 16], lambda c: c.get("family") == "cnn"),
    ("channels_2", [16, 32], lambda c: c.get("blocks", 0) >= 2),
    ("channels_3", [32, 64], lambda c: c.get("blocks", 0) >= 3),
    ("kernel_1", [3, 5], lambda c: c.get("family") == "cnn"),
    ("pooling", ["max", "average"], lambda c: c.get("family") == "cnn"),
    ("residual", [False, True], lambda c: c.get("family") == "cnn"),
    ("head", [0, 64, 128], lambda c: c.get("family") == "cnn"),
    ("activation", ["relu", "gelu", "tanh"], None),
    ("dropout", [0.0, 0.25], None),
    ("optimizer", ["adam", "sgd"], None),
    ("learning_rate", ("log", 3e-4, 3e-2), None),
    ("momentum", [0.9], lambda c: c.get("optimizer") == "sgd"),
    ("batch_size", [32, 64, 128], None),
]


def orrery_stream(seed):
    """Orrery's SearchSpace.sample with SplitMix64(seed), distinct configurations in order."""
    g = SplitMix64(seed)
    seen = set()
    while True:
        c = {}
        for name, domain, condition in SPACE:
            if condition is not None and not condition(c):
                continue
            if isinstance(domain, list):
                c[name] = domain[g.next() % len(domain)]
            elif domain[0] == "int":
                c[name] = domain[1] + g.next() % (domain[2] - domain[1] + 1)
            else:
                lo, hi = domain[1], domain[2]
                value = math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * ((g.next() >> 11) * 2.0 ** -53))
                c[name] = min(hi, max(lo, float("%.3g" % value)))
        key = tuple(sorted(c.items()))
        if key not in seen:
            seen.add(key)
            yield c


def suggest(trial):
    """The same space as Optuna's define-by-run suggestions."""
    c = {"family": trial.suggest_categorical("family", ["cnn", "mlp"])}
    if c["family"] == "mlp":
        c["depth"] = trial.suggest_int("depth", 1, 3)
        c["width_1"] = trial.suggest_categorical("width_1", [64, 128, 256, 512])
        if c["depth"] >= 2:
            c["width_2"] = trial.suggest_categorical("width_2", [64, 128, 256, 512])
        if c["depth"] >= 3:
            c["width_3"] = trial.suggest_categorical("width_3", [64, 128, 256])
    else:
        c["blocks"] = trial.suggest_int("blocks", 1, 3)
        c["channels_1"] = trial.suggest_categorical("channels_1", [8, 16])
        if c["blocks"] >= 2:
            c["channels_2"] = trial.suggest_categorical("channels_2", [16, 32])
        if c["blocks"] >= 3:
            c["channels_3"] = trial.suggest_categorical("channels_3", [32, 64])
        c["kernel_1"] = trial.suggest_categorical("kernel_1", [3, 5])
        c["pooling"] = trial.suggest_categorical("pooling", ["max", "average"])
        c["residual"] = trial.suggest_categorical("residual", [False, True])
        c["head"] = trial.suggest_categorical("head", [0, 64, 128])
    c["activation"] = trial.suggest_categorical("activation", ["relu", "gelu", "tanh"])
    c["dropout"] = trial.suggest_categorical("dropout", [0.0, 0.25])
    c["optimizer"] = trial.suggest_categorical("optimizer", ["adam", "sgd"])
    c["learning_rate"] = trial.suggest_float("learning_rate", 3e-4, 3e-2, log=True)
    if c["optimizer"] == "sgd":
        c["momentum"] = trial.suggest_categorical("momentum", [0.9])
    c["batch_size"] = trial.suggest_categorical("batch_size", [32, 64, 128])
    return c


def build(c):
    """Orrery's ImageClassifierArchitecture in PyTorch."""
    import torch.nn as nn

    act = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}[c["activation"]]
    layers, features = [], 784
    if c["family"] == "cnn":
        layers.append(nn.Unflatten(1, (1, 28, 28)))
        channels, side = 1, 28

        class Residual(nn.Module):
            def __init__(self, body, shortcut):
                super().__init__()
                self.body, self.shortcut = body, shortcut

            def forward(self, x):
                return self.body(x) + (self.shortcut(x) if self.shortcut is not None else x)

        for b in range(c["blocks"]):
            out = c[f"channels_{b + 1}"]
            k = c.get(f"kernel_{b + 1}", 3)
            first = nn.Conv2d(channels, out, k, padding=k // 2)
            if c["residual"]:
                body = nn.Sequential(first, act(), nn.Conv2d(out, out, k, padding=k // 2))
                layers += [Residual(body, nn.Conv2d(channels, out, 1) if channels != out else None), act()]
            else:
                layers += [first, act()]
            layers.append(nn.MaxPool2d(2) if c["pooling"] == "max" else nn.AvgPool2d(2))
            channels, side = out, side // 2
        layers.append(nn.Flatten())
        features = channels * side * side
        hidden = [c["head"]] if c["head"] > 0 else []
    else:
        hidden = [c[f"width_{i + 1}"] for i in range(c["depth"])]
    sizes = [features] + hidden + [10]
    for i in range(len(sizes) - 1):
        if i > 0 and c["dropout"] > 0:
            layers.append(nn.Dropout(c["dropout"]))
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def train(c, data, seed, report):
    """Trains up to EPOCHS, calling report(epoch, dev accuracy) after each; report returns
    False to stop (pruned or out of budget)."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    tx, ty, dx, dy = (torch.from_numpy(a) for a in data)
    model = build(c)
    if c["optimizer"] == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=c["learning_rate"], momentum=c.get("momentum", 0.9))
    else:
        opt = torch.optim.Adam(model.parameters(), lr=c["learning_rate"])
    batch = c["batch_size"]
    steps = (len(tx) + batch - 1) // batch
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps * EPOCHS)
    loss_fn = torch.nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(seed)
    for epoch in range(1, EPOCHS + 1):
        model.train()
        order = torch.randperm(len(tx), generator=g)
        for s in range(steps):
            i = order[s * batch:(s + 1) * batch]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(tx[i]), ty[i]).backward()
            opt.step()
            schedule.step()
        model.eval()
        with torch.no_grad():
            accuracy = sum((model(dx[j:j + 1000]).argmax(1) == dy[j:j + 1000]).sum().item() for j in range(0, len(dx), 1000)) / len(dx)
        if not report(epoch, accuracy):
            return


def run_ray(args, data):
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    reference = ray.put(data)
    stream = orrery_stream(args.seed)

    def trainable(config):
        from ray import tune as t
        train(config, ray.get(reference), args.seed, lambda e, a: (t.report({"dev_accuracy": a, "epoch": e}), True)[1])

    class Budget(tune.Stopper):
        """Stops everything once the trials have reported `budget` epochs in all."""
        def __init__(self):
            self.epochs = 0

        def __call__(self, trial_id, result):
            self.epochs += 1
            return False

        def stop_all(self):
            return self.epochs >= args.budget

    budget = Budget()
    if args.fixed:
        budget = {"training_iteration": args.fixed_epochs}
    # The conditional space as one configuration per trial (tune.sample_from), in Orrery's order.
    space = {"_c": tune.sample_from(lambda spec: next(stream))}
    start = time.perf_counter()
    tuner = tune.Tuner(
        tune.with_resources(lambda config: trainable(config["_c"]), {"cpu": 1}),
        param_space=space,
        tune_config=tune.TuneConfig(
            metric="dev_accuracy", mode="max", num_samples=args.fixed or 1000, max_concurrent_trials=2,
            scheduler=None if args.fixed else ASHAScheduler(time_attr="training_iteration", max_t=EPOCHS, grace_period=1, reduction_factor=3)),
        run_config=tune.RunConfig(stop=budget, verbose=0, storage_path=os.path.abspath(args.scratch)),
    )
    results = tuner.fit()
    wall = time.perf_counter() - start
    full = [r.metrics.get("dev_accuracy", 0) for r in results if r.metrics and r.metrics.get("training_iteration", 0) >= EPOCHS]
    done = sum(1 for r in results if r.metrics and (r.metrics.get("training_iteration", 0) >= EPOCHS or r.metrics.get("done")))
    ray.shutdown()
    epochs = budget.epochs if not args.fixed else sum(r.metrics.get("training_iteration", 0) for r in results if r.metrics)
    return {"system": "Ray Tune ASHA" if not args.fixed else "Ray Tune (FIFO)", "wall_s": wall, "trials": len(results), "completed": done, "epochs": epochs,
            "best_full_budget_dev": max(full) if full else None}


def run_optuna(args, data):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    lock = threading.Lock()
    state = {"epochs": 0, "full": [], "completed": 0, "started": 0}

    def objective(trial):
        with lock:
            state["started"] += 1
        c = suggest(trial)
        last = {"accuracy": 0.0, "epoch": 0}

        def report(epoch, accuracy):
            with lock:
                state["epochs"] += 1
                over = state["epochs"] >= args.budget
            last.update(accuracy=accuracy, epoch=epoch)
            trial.report(accuracy, epoch)
            if args.fixed:
                return epoch < args.fixed_epochs
            if over:
                study.stop()
                return False
            return not trial.should_prune()

        train(c, data, args.seed, report)
        with lock:
            state["completed"] += 1
            if last["epoch"] >= EPOCHS:
                state["full"].append(last["accuracy"])
        if last["epoch"] < EPOCHS and not args.fixed:
            raise optuna.TrialPruned()
        return last["accuracy"]

    pruner = (optuna.pruners.HyperbandPruner(min_resource=1, max_resource=EPOCHS, reduction_factor=3)
              if args.fixed == 0 else optuna.pruners.NopPruner())
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=args.seed), pruner=pruner)
    stream = orrery_stream(args.seed)
    count = args.fixed or 300  # 300: far more than the budget can start
    for _ in range(count):
        study.enqueue_trial(next(stream))
    start = time.perf_counter()
    study.optimize(objective, n_trials=count, n_jobs=2)
    wall = time.perf_counter() - start
    return {"system": "Optuna Hyperband" if args.fixed == 0 else "Optuna (no pruner)", "wall_s": wall, "trials": state["started"], "completed": state["completed"],
            "epochs": state["epochs"], "best_full_budget_dev": max(state["full"]) if state["full"] else None}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", choices=["ray", "optuna"], required=True)
    parser.add_argument("--budget", type=int, default=45)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scratch", default="/tmp/orrery-nas-peers")
    parser.add_argument("--fixed", type=int, default=0, help="instead of the search: the first N configurations, no pruning")
    parser.add_argument("--fixed-epochs", type=int, default=3, help="with --fixed: epochs per trial")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    data = load()
    row = (run_ray if args.system == "ray" else run_optuna)(args, data)
    # Trials started per hour: every trial ends at some rung except the (at most two) that
    # the budget cuts off, which the peers cannot tell apart from rung stops.
    row["trials_per_hour"] = row["trials"] / row["wall_s"] * 3600
    if args.json:
        print(json.dumps(row))
    else:
        best = row["best_full_budget_dev"]
        print(f"{row['system']}: {row['wall_s']:.1f} s, {row['trials']} trials ({row['completed']} ended), {row['epochs']} epochs, "
              f"{row['trials_per_hour']:.0f} trials/h, best full-budget dev {'-' if best is None else f'{100 * best:.2f}%'}")


if __name__ == "__main__":
    main()
