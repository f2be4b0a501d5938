"""learn2learn 0.2.0 (on PyTorch CPU) on the rows `orrery bench meta-learn` measures.

The same model (MLP 196-256-128-64, ReLU, a 5-way head), episode shape (5-way 5-shot,
15 queries per class, 14x14 images drawn from a pool of 20 random classes of 40 images),
inner loop (5 SGD steps at 0.4 on the support set) and outer step (meta-gradients of 16
episodes averaged, Adam at 0.001). MAML and first-order MAML use
`learn2learn.algorithms.MAML` (first_order False / True), ANIL a `MAML`-wrapped head on
the body's support features, as learn2learn's examples do. learn2learn has no Reptile or
ProtoNets class: those follow its examples in plain PyTorch. Episodes/s, the median of
--repeats runs of 20 meta-steps each, after a warm-up.

learn2learn 0.2.0's sdist ships Cython output that no longer compiles on Python 3.11;
setup-venv regenerates it with Cython before installing (see there).

    .venv-peers/bin/python scripts/bench/peers/l2l_meta.py --threads 1 --json
"""
import time

import learn2learn as l2l
import torch
import torch.nn.functional as F

from peer_bench import arguments, measure_all, report

WAYS, SHOTS, QUERIES, INNER_STEPS, INNER_LR, META_BATCH, META_STEPS = 5, 5, 15, 5, 0.4, 16, 20
FEATURES = 14 * 14


def body():
    return torch.nn.Sequential(
        torch.nn.Linear(FEATURES, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 64), torch.nn.ReLU())


class Episodes:
    """Random N-way K-shot episodes from a pool of random images, as the Orrery bench draws them."""

    def __init__(self, shots):
        self.generator = torch.Generator().manual_seed(5)
        self.pool = torch.rand(4 * WAYS, 40, FEATURES, generator=self.generator)
        self.shots = shots
        self.support_labels = torch.arange(WAYS).repeat_interleave(shots)
        self.query_labels = torch.arange(WAYS).repeat_interleave(QUERIES)

    def __call__(self):
        classes = torch.randperm(self.pool.shape[0], generator=self.generator)[:WAYS]
        examples = torch.stack([torch.randperm(40, generator=self.generator)[: self.shots + QUERIES] for _ in range(WAYS)])
        images = self.pool[classes.unsqueeze(1), examples]  # [ways, shots + queries, features]
        support = images[:, : self.shots].reshape(-1, FEATURES)
        query = images[:, self.shots:].reshape(-1, FEATURES)
        return support, self.support_labels, query, self.query_labels


def meta_train(step_episode, parameters, shots):
    """Episodes/s of META_STEPS meta-steps: `step_episode` leaves one episode's meta-gradient
    added into the parameters' .grad; the sum is averaged and Adam steps."""
    optimizer = torch.optim.Adam(parameters, lr=0.001)
    episodes = Episodes(shots)
    start = time.perf_counter()
    for _ in range(META_STEPS):
        optimizer.zero_grad()
        for _ in range(META_BATCH):
            step_episode(*episodes())
        for p in parameters:
            if p.grad is not None:
                p.grad.div_(META_BATCH)
        optimizer.step()
    return META_STEPS * META_BATCH / (time.perf_counter() - start)


def maml(first_order, shots):
    torch.manual_seed(1)
    model = l2l.algorithms.MAML(torch.nn.Sequential(body(), torch.nn.Linear(64, WAYS)), lr=INNER_LR, first_order=first_order)

    def episode(support, support_labels, query, query_labels):
        learner = model.clone()
        for _ in range(INNER_STEPS):
            learner.adapt(F.cross_entropy(learner(support), support_labels))
        F.cross_entropy(learner(query), query_labels).backward()

    return meta_train(episode, list(model.parameters()), shots)


def anil(shots):
    torch.manual_seed(1)
    features = body()
    head = l2l.algorithms.MAML(torch.nn.Linear(64, WAYS), lr=INNER_LR, first_order=True)

    def episode(support, support_labels, query, query_labels):
        learner = head.clone()
        with torch.no_grad():
            support_features = features(support)
        for _ in range(INNER_STEPS):
            learner.adapt(F.cross_entropy(learner(support_features), support_labels))
        F.cross_entropy(learner(features(query)), query_labels).backward()

    return meta_train(episode, list(features.parameters()) + list(head.parameters()), shots)


def reptile(shots):
    torch.manual_seed(1)
    model = torch.nn.Sequential(body(), torch.nn.Linear(64, WAYS))
    parameters = list(model.parameters())
    names = [name for name, _ in model.named_parameters()]

    def episode(support, support_labels, query, query_labels):
        fast = [p.detach().clone().requires_grad_() for p in parameters]
        for _ in range(INNER_STEPS):
            logits = torch.func.functional_call(model, dict(zip(names, fast)), (support,))
            grads = torch.autograd.grad(F.cross_entropy(logits, support_labels), fast)
            fast = [(w - INNER_LR * g).detach().requires_grad_() for w, g in zip(fast, grads)]
        with torch.no_grad():
            for p, w in zip(parameters, fast):
                difference = p - w
                p.grad = difference if p.grad is None else p.grad + difference

    return meta_train(episode, parameters, shots)


def protonet(shots):
    torch.manual_seed(1)
    embed = body()

    def episode(support, support_labels, query, query_labels):
        prototypes = embed(support).reshape(WAYS, shots, -1).mean(dim=1)
        logits = -torch.cdist(embed(query), prototypes) ** 2
        F.cross_entropy(logits, query_labels).backward()

    return meta_train(episode, list(embed.parameters()), shots)


def main():
    args = arguments()
    name = lambda algorithm: f"{algorithm}, {WAYS}-way {SHOTS}-shot, {INNER_STEPS} inner steps"
    cases = [
        (name("maml"), "episodes/s", lambda: maml(False, SHOTS)),
        (name("fomaml"), "episodes/s", lambda: maml(True, SHOTS)),
        (name("reptile"), "episodes/s", lambda: reptile(SHOTS)),
        (name("anil"), "episodes/s", lambda: anil(SHOTS)),
        (name("protonet"), "episodes/s", lambda: protonet(SHOTS)),
    ]
    report(measure_all(cases, args), args.json)


if __name__ == "__main__":
    main()
