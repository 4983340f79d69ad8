"""skdeep.search.OptunaSearchCV against RandomizedSearchCV at the same budget.

DeepMLPClassifier on the digits images (pixels / 16; 80/20 split, stratified,
random_state=0). Both searches draw from the same space (log-uniform learning rate and
alpha, uniform dropout, a choice of layer sizes and batch sizes), evaluate each candidate
by 3-fold CV accuracy on the training split, and refit the best on it. Reported per search
seed: the best CV accuracy after 10, 20 and all trials, the refitted model's test accuracy
and the wall time. TPE's first 10 trials are random by design, so the two can only part
after trial 10.

    python benchmarks/bench_search.py [--trials 30] [--seeds 0 1] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np
import torch
from scipy.stats import loguniform, uniform
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import RandomizedSearchCV, train_test_split
from threadpoolctl import threadpool_limits

from skdeep import DeepMLPClassifier
from skdeep.search import FloatDistribution, OptunaSearchCV

HIDDEN = [(32,), (128,), (256, 128)]
BATCH = [16, 32, 64, 128, 256]


def searches(trials, seed):
    model = DeepMLPClassifier(max_epochs=30, random_state=0)
    common = dict(cv=3, scoring="accuracy", random_state=seed)
    optuna_space = {
        "learning_rate": FloatDistribution(1e-4, 3e-1, log=True),
        "alpha": FloatDistribution(1e-6, 1e-1, log=True),
        "dropout": FloatDistribution(0.0, 0.6),
        "hidden_layer_sizes": HIDDEN,
        "batch_size": BATCH,
    }
    random_space = {
        "learning_rate": loguniform(1e-4, 3e-1),
        "alpha": loguniform(1e-6, 1e-1),
        "dropout": uniform(0.0, 0.6),
        "hidden_layer_sizes": HIDDEN,
        "batch_size": BATCH,
    }
    return {
        "RandomizedSearchCV": RandomizedSearchCV(model, random_space, n_iter=trials, **common),
        "OptunaSearchCV (TPE)": OptunaSearchCV(model, optuna_space, n_trials=trials, **common),
    }


def best_so_far(scores, k):
    return float(np.nanmax(scores[:k]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.2, stratify=y, random_state=0
    )
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {args.threads} thread(s); digits {len(X_train)} train / "
        f"{len(X_test)} test; {args.trials} trials x 3-fold CV per search.\n"
    )
    marks = [k for k in (10, 20) if k < args.trials] + [args.trials]
    head = " | ".join(f"best CV after {k}" for k in marks)
    print(f"| search | seed | {head} | test accuracy (refit best) | seconds |")
    print("|---|---:|" + "---:|" * len(marks) + "---:|---:|")
    with threadpool_limits(limits=args.threads), warnings.catch_warnings():
        torch.set_num_threads(args.threads)
        warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed 30-epoch budget
        for seed in args.seeds:
            for name, search in searches(args.trials, seed).items():
                start = time.perf_counter()
                search.fit(X_train, y_train)
                seconds = time.perf_counter() - start
                scores = np.asarray(search.cv_results_["mean_test_score"], dtype=float)
                best = " | ".join(f"{best_so_far(scores, k):.4f}" for k in marks)
                test = search.score(X_test, y_test)
                print(f"| {name} | {seed} | {best} | {test:.4f} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
