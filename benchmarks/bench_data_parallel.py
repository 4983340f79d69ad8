"""Data-parallel training (skdeep.distributed): 1 process against 2, on the CPU.

Adult census income (bundled: skdeep.datasets.load_adult), one-hot categories and scaled
numbers (fitted on the training file), ``DeepMLPClassifier(hidden_layer_sizes=(128, 64),
dropout=0, alpha=1e-4, early_stopping=False)`` for ``max_epochs`` epochs, accuracy on the
UCI test file. Each setting is fitted once per seed:

* ``1 process``: a plain fit in this process, one torch thread;
* ``1 process, 2 threads``: the same with two torch threads (what the second core buys
  without data parallelism);
* ``2 processes``: the same script under ``torchrun --nproc-per-node 2`` (gloo; on one
  machine's CPU ``accelerate launch`` starts a single process unless through MPI), one
  thread each: every batch split between the two.

Reported per setting: the median over seeds of the median epoch time (``history_``'s
``dur``), the median wall time of ``fit``, and test accuracy (median and range over seeds).
The time of an epoch is what the processes spend together on it: both run every epoch.

    python benchmarks/bench_data_parallel.py [--epochs 10] [--seeds 0 1 2]
        [--batch-sizes 200 1024 4096] [--thread-batch-sizes 1024 4096]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import torch
from sklearn.compose import make_column_transformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skdeep import DeepMLPClassifier
from skdeep.datasets import load_adult


def data():
    X, y = load_adult(as_frame=True, return_X_y=True)
    X_test, y_test = load_adult(split="test", as_frame=True, return_X_y=True)
    categorical = list(X.select_dtypes("category").columns)
    numeric = [c for c in X.columns if c not in categorical]
    prep = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
        (StandardScaler(), numeric),
    )
    X = prep.fit_transform(X).astype(np.float32)
    X_test = prep.transform(X_test).astype(np.float32)
    y = (np.asarray(y).astype(str) == ">50K").astype(int)
    y_test = np.char.rstrip(np.asarray(y_test).astype(str), ".")  # the test file's "<=50K."
    return X, y, X_test, (y_test == ">50K").astype(int)


def fit_once(batch_size, epochs, seed, X, y, X_test, y_test):
    clf = DeepMLPClassifier(  # every parameter given: the figures must not move with defaults
        hidden_layer_sizes=(128, 64),
        dropout=0.0,
        alpha=1e-4,
        learning_rate=1e-3,
        batch_size=batch_size,
        max_epochs=epochs,
        early_stopping=False,
        device="cpu",
        random_state=seed,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_epochs reached: the epochs are what we time
        clf.fit(X, y)
    wall = time.perf_counter() - start
    return {
        "batch_size": batch_size,
        "seed": seed,
        "epoch_s": float(np.median([row["dur"] for row in clf.history_])),
        "fit_s": wall,
        "accuracy": float(clf.score(X_test, y_test)),
        "n_epochs": clf.n_iter_,
    }


def run_all(args, X, y, X_test, y_test, batch_sizes=None):
    batch_sizes = batch_sizes or args.batch_sizes
    # A first, short fit pays the one-off costs (a launched process imports Accelerate and
    # joins the process group); it is timed apart and left out of the figures.
    start = time.perf_counter()
    fit_once(batch_sizes[0], 1, 0, X[:2000], y[:2000], X_test[:10], y_test[:10])
    warm_up = {"warm_up_s": time.perf_counter() - start}
    return [warm_up] + [
        fit_once(batch_size, args.epochs, seed, X, y, X_test, y_test)
        for batch_size in batch_sizes
        for seed in args.seeds
    ]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_two(args):
    """This script as rank 0 and 1 of ``torchrun``; rank 0's results."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "ranks.json")
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc-per-node",
            "2",
            "--master-port",
            str(free_port()),
            __file__,
            "--rank-output",
            out,
            "--epochs",
            str(args.epochs),
            "--seeds",
            *map(str, args.seeds),
            "--batch-sizes",
            *map(str, args.batch_sizes),
        ]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        subprocess.run(command, check=True, env=env)
        with open(out) as f:
            return json.load(f)


def summary(name, results):
    print(f"# {name}: first (warm-up) fit {results[0]['warm_up_s']:.1f} s")
    results = results[1:]
    rows = []
    for batch_size in sorted({r["batch_size"] for r in results}):
        runs = [r for r in results if r["batch_size"] == batch_size]
        acc = [r["accuracy"] for r in runs]
        rows.append(
            {
                "setting": name,
                "batch_size": batch_size,
                "epoch_s": float(np.median([r["epoch_s"] for r in runs])),
                "fit_s": float(np.median([r["fit_s"] for r in runs])),
                "acc": float(np.median(acc)),
                "acc_min": min(acc),
                "acc_max": max(acc),
            }
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[200, 1024, 4096])
    parser.add_argument(
        "--thread-batch-sizes",
        type=int,
        nargs="+",
        help="batch sizes of the 2-thread baseline (default: --batch-sizes)",
    )
    parser.add_argument("--rank-output", help=argparse.SUPPRESS)  # set when launched
    args = parser.parse_args()

    X, y, X_test, y_test = data()
    if args.rank_output:  # one of the two launched processes
        torch.set_num_threads(1)
        results = run_all(args, X, y, X_test, y_test)
        if torch.distributed.get_rank() == 0:
            with open(args.rank_output, "w") as f:
                json.dump(results, f)
        return

    print(
        f"# {platform.node()}: {os.cpu_count()} cores, torch {torch.__version__}, "
        f"no GPU used, load average before {os.getloadavg()}"
    )
    print(f"# Adult: {X.shape[0]} training rows x {X.shape[1]} columns, {len(X_test)} test rows")
    rows = []
    torch.set_num_threads(1)
    rows += summary("1 process", run_all(args, X, y, X_test, y_test))
    torch.set_num_threads(2)
    threads = run_all(args, X, y, X_test, y_test, args.thread_batch_sizes)
    rows += summary("1 process, 2 threads", threads)
    torch.set_num_threads(1)
    rows += summary("2 processes", launch_two(args))
    print(f"# load average after {os.getloadavg()}")
    base = {r["batch_size"]: r["epoch_s"] for r in rows if r["setting"] == "1 process"}
    print(
        f"| setting | batch_size | epoch (s, median) | vs 1 process | fit (s) | "
        f"test accuracy, median [min, max] over {len(args.seeds)} seeds |"
    )
    print("|---|---:|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r['setting']} | {r['batch_size']} | {r['epoch_s']:.3f} | "
            f"{base[r['batch_size']] / r['epoch_s']:.2f}x | {r['fit_s']:.1f} | "
            f"{r['acc']:.4f} [{r['acc_min']:.4f}, {r['acc_max']:.4f}] |"
        )


if __name__ == "__main__":
    main()
