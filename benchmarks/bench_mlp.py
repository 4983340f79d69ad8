"""DeepMLPClassifier against a hand-written torch loop, plain skorch and sklearn's MLP.

The task (issue 3): make_classification(60_000 rows, 100 features, 30 informative,
4 classes), 50k train / 10k test, standardised; a 100-256-256-4 ReLU network, Adam 1e-3,
batch 256, 10 epochs, no L2, 2 torch threads. Every contender runs in this one process
(and, for peak memory, in a fresh subprocess each), so the ratios compare like with like.

    python benchmarks/bench_mlp.py [--repeats 3] [--device cpu|cuda] [--skip-memory]
    python benchmarks/bench_mlp.py --predict-memory   # predict's peak memory by row count

Prints a markdown table; paste it into benchmarks/RESULTS.md with the machine it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import torch
from torch import nn

EPOCHS, BATCH, LR, THREADS = 10, 256, 1e-3, 2
HIDDEN = (256, 256)


def make_data():
    from sklearn.datasets import make_classification
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(
        n_samples=60_000, n_features=100, n_informative=30, n_classes=4, random_state=0
    )
    X_train, X_test, y_train, y_test = X[:50_000], X[50_000:], y[:50_000], y[50_000:]
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def make_module(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(100, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 4)
    )


# --- contenders: each returns (fit seconds, fitted object, predict_proba callable) ------


def fit_hand_loop(X, y, device):
    """The floor: preloaded tensors, one randperm per epoch, no framework."""
    start = time.perf_counter()
    module = make_module().to(device)
    Xt = torch.as_tensor(X, dtype=torch.float32, device=device)
    yt = torch.as_tensor(y, device=device)
    optimizer = torch.optim.Adam(module.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)
    for _ in range(EPOCHS):
        order = torch.randperm(len(Xt), generator=generator).to(device)
        for i in range(0, len(Xt), BATCH):
            idx = order[i : i + BATCH]
            optimizer.zero_grad()
            loss = loss_fn(module(Xt[idx]), yt[idx])
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    module.eval()

    def proba(Xq):
        with torch.inference_mode():
            x = torch.as_tensor(Xq, dtype=torch.float32, device=device)
            return torch.softmax(module(x), dim=1).cpu().numpy()

    return seconds, module, proba


def fit_skorch(X, y, device):
    from skorch import NeuralNetClassifier

    start = time.perf_counter()
    net = NeuralNetClassifier(
        make_module(),
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=LR,
        batch_size=BATCH,
        max_epochs=EPOCHS,
        train_split=None,
        iterator_train__shuffle=True,
        device=device,
        verbose=0,
    )
    net.fit(X.astype(np.float32), y.astype(np.int64))
    return time.perf_counter() - start, net, lambda Xq: net.predict_proba(Xq.astype(np.float32))


def fit_sklearn(X, y, device):
    from sklearn.neural_network import MLPClassifier

    start = time.perf_counter()
    clf = MLPClassifier(
        hidden_layer_sizes=HIDDEN,
        batch_size=BATCH,
        max_iter=EPOCHS,
        learning_rate_init=LR,
        alpha=0.0,
        n_iter_no_change=EPOCHS + 1,
        tol=0.0,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: we stop at 10 epochs
        clf.fit(X, y)
    return time.perf_counter() - start, clf, clf.predict_proba


def fit_skdeep(X, y, device):
    from skdeep import DeepMLPClassifier

    start = time.perf_counter()
    clf = DeepMLPClassifier(
        hidden_layer_sizes=HIDDEN,
        batch_size=BATCH,
        max_epochs=EPOCHS,
        learning_rate=LR,
        alpha=0.0,
        n_iter_no_change=EPOCHS + 1,
        tol=0.0,
        device=device,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    return time.perf_counter() - start, clf, clf.predict_proba


CONTENDERS = {
    "hand-written torch loop": fit_hand_loop,
    "skorch NeuralNetClassifier": fit_skorch,
    "sklearn MLPClassifier": fit_sklearn,
    "skdeep DeepMLPClassifier": fit_skdeep,
}


# --- measurements ---------------------------------------------------------------------


def median_seconds(fn, repeats, inner=1):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - start) / inner)
    return statistics.median(times)


def bare_forward(module, device):
    """A module forward on a preloaded float32 tensor: the floor for prediction."""
    module = module.eval()

    def run(x):
        with torch.inference_mode():
            return module(x)

    return run


def peak_fit_memory(name, device):
    """Peak resident memory a fit adds, in MiB, measured in a fresh process.

    The baseline is the process after imports and a warm-up fit on 512 rows (which
    pages in the kernels' code and starts the thread pools: one-time costs of any torch
    program, not of this fit), before the data is loaded; a thread samples the resident
    set size every millisecond while the data loads and the model fits.
    Returns (peak growth, size of data + model).
    """
    with tempfile.TemporaryDirectory() as tmp:
        X_train, _, y_train, _ = make_data()
        np.save(os.path.join(tmp, "X.npy"), X_train)
        np.save(os.path.join(tmp, "y.npy"), y_train)
        code = f"""
import json, os, sys, threading, time
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
import numpy as np, torch
torch.set_num_threads({THREADS})
import bench_mlp
import skdeep, skorch, sklearn.neural_network  # imports before the baseline
page = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page
peak, done = [0], threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.001)
rng = np.random.RandomState(0)
warm_X, warm_y = rng.normal(size=(512, 100)), rng.randint(0, 4, 512)
bench_mlp.CONTENDERS[{name!r}](warm_X, warm_y, {device!r})
before = rss()
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
X = np.load(os.path.join({tmp!r}, "X.npy")); y = np.load(os.path.join({tmp!r}, "y.npy"))
data = X.nbytes + y.nbytes
bench_mlp.CONTENDERS[{name!r}](X, y, {device!r})
done.set(); sampler.join()
params = sum(p.numel() * 4 for p in bench_mlp.make_module().parameters())
print(json.dumps(dict(before=before, peak=max(peak[0], rss()), data=data, model=params)))
"""
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    growth = result["peak"] - result["before"]
    return growth / 2**20, (result["data"] + result["model"]) / 2**20


def peak_predict_memory(rows_list, device):
    """Peak resident memory ``predict_proba`` adds over its input, per row count, in MiB.

    One fresh process: a model fitted on 2,000 rows, one warm-up prediction, then for each
    row count a float64 input of 100 columns is created and a thread samples the resident
    set size every millisecond while ``predict_proba`` runs (baseline: after the input
    exists). Returns ``{rows: (peak growth, input size)}``.
    """
    code = f"""
import json, os, threading, time
import numpy as np, torch
torch.set_num_threads({THREADS})
from skdeep import DeepMLPClassifier
page = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page
rng = np.random.RandomState(0)
clf = DeepMLPClassifier(hidden_layer_sizes={HIDDEN!r}, max_epochs=1, random_state=0,
                        device={device!r})
clf.fit(rng.normal(size=(2000, 100)), rng.randint(0, 4, 2000))
clf.predict_proba(rng.normal(size=(20000, 100)))
out = {{}}
for n in {list(rows_list)!r}:
    X = rng.normal(size=(n, 100))
    peak, done = [0], threading.Event()
    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.001)
    before = rss()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    proba = clf.predict_proba(X)
    done.set(); sampler.join()
    out[n] = ((max(peak[0], rss()) - before) / 2**20, X.nbytes / 2**20)
    del X, proba
print(json.dumps(out))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {int(k): tuple(v) for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--only-memory", action="store_true")
    parser.add_argument(
        "--predict-memory",
        action="store_true",
        help="only the peak memory of predict_proba at 10k, 100k, 400k and 1M rows",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(THREADS)
    if args.predict_memory:
        print("| rows | input (MiB) | predict_proba peak growth (MiB) | growth / input |")
        print("|---:|---:|---:|---:|")
        for n, (growth, size) in peak_predict_memory(
            (10_000, 100_000, 400_000, 1_000_000), args.device
        ).items():
            print(f"| {n:,} | {size:.0f} | {growth:.0f} | {growth / size:.2f}x |")
        return
    if args.only_memory:
        for name in CONTENDERS:
            growth, base = peak_fit_memory(name, args.device)
            print(f"| {name} | {growth:.0f} MiB | {growth / base:.2f}x |")
        print(f"data + model = {base:.1f} MiB")
        return
    X_train, X_test, y_train, y_test = make_data()

    # Repeats are interleaved (A B C D A B C D ...) so that a slow spell of the machine
    # hits every contender alike; the median of each is reported.
    fits = {name: [] for name in CONTENDERS}
    fitted = {}
    for _ in range(args.repeats):
        for name, fit in CONTENDERS.items():
            seconds, model, proba = fit(X_train, y_train, args.device)
            fits[name].append(seconds)
            fitted[name] = (model, proba)
    rows = {}
    for name, (model, proba) in fitted.items():
        accuracy = float((proba(X_test).argmax(axis=1) == y_test).mean())
        one_row = X_test[:1]
        latency = median_seconds(lambda p=proba, x=one_row: p(x), 5, inner=200)
        batch_10k = median_seconds(lambda p=proba: p(X_test), 7)
        rows[name] = dict(
            fit=statistics.median(fits[name]),
            accuracy=accuracy,
            latency=latency,
            batch_10k=batch_10k,
            model=model,
        )
        print(
            f"  {name}: fits {[round(t, 2) for t in fits[name]]}, acc {accuracy:.4f}",
            file=sys.stderr,
            flush=True,
        )

    # Bare forward of the hand loop's module on preloaded float32 tensors.
    forward = bare_forward(rows["hand-written torch loop"]["model"], args.device)
    x1 = torch.as_tensor(X_test[:1], dtype=torch.float32, device=args.device)
    x10k = torch.as_tensor(X_test, dtype=torch.float32, device=args.device)
    bare_1 = median_seconds(lambda: forward(x1), 5, inner=200)
    bare_10k = median_seconds(lambda: forward(x10k), 7)

    memory = {}
    if not args.skip_memory:
        for name in CONTENDERS:
            memory[name] = peak_fit_memory(name, args.device)

    floor = rows["hand-written torch loop"]["fit"]
    print(
        f"\nMachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {THREADS} threads, device {args.device}; "
        f"median of {args.repeats} interleaved fits.\n"
    )
    print(
        "| contender | fit (s) | fit / hand loop | test accuracy | 1-row predict_proba (us) "
        "| 10k-row predict_proba (ms) | 10k / bare forward | peak fit memory (MiB) "
        "| memory / (data + model) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, row in rows.items():
        mem, base = memory.get(name, (float("nan"), float("nan")))
        print(
            f"| {name} | {row['fit']:.2f} | {row['fit'] / floor:.2f}x | "
            f"{row['accuracy']:.4f} | {row['latency'] * 1e6:.0f} | "
            f"{row['batch_10k'] * 1e3:.2f} | {row['batch_10k'] / bare_10k:.2f}x | "
            f"{mem:.0f} | {mem / base:.2f}x |"
        )
    print(f"| bare module forward | | | | {bare_1 * 1e6:.0f} | {bare_10k * 1e3:.2f} | 1.00x | | |")
    if memory:
        print(
            f"\ndata + model = {next(iter(memory.values()))[1]:.1f} MiB (X_train float64 + "
            "y_train int64 + float32 weights)"
        )


if __name__ == "__main__":
    main()
