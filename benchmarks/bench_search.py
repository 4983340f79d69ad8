"""skdeep.search.OptunaSearchCV with pruning against GridSearchCV, and 1 vs 2 workers.

Bank marketing (UCI "bank-full", 45,211 rows, from ../shared/data/bank_marketing; the
``duration`` column dropped, as it is only known after the call), DeepMLPClassifier in a
preprocessing pipeline (one-hot categories, scaled numbers), 3-fold stratified CV, ROC AUC,
one torch thread per process, ``refit=False`` (the searches alone are timed).

``--part grid``: GridSearchCV over a 12-point grid (learning rate x widths x dropout)
against OptunaSearchCV over the same ranges (continuous where the grid has points), TPE
(5 random start-up trials, seeded) with median pruning (``--pruners median halving`` adds
successive halving), 12 trials. Reported: best CV AUC, wall time, epochs trained (summed
over all fits) and trials pruned.

``--part workers``: OptunaSearchCV on a journal file, no pruner, the same trials run by 1
and by 2 worker processes: trials per minute. The 2-worker search first runs a 2-trial
warm-up, reported apart: the worker start-up (each worker imports torch) is paid once per
Python process.

``--part digits``: the earlier comparison, OptunaSearchCV against RandomizedSearchCV at 30
trials on the digits images.

    python benchmarks/bench_search.py [--part grid workers] [--rows N] [--epochs 20]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import torch
from scipy.stats import loguniform, uniform
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import (
    GridSearchCV,
    RandomizedSearchCV,
    StratifiedKFold,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from skorch.callbacks import Callback
from threadpoolctl import threadpool_limits

from skdeep import DeepMLPClassifier
from skdeep.search import FloatDistribution, OptunaSearchCV

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "bank_marketing"
EPOCHS_RUN = [0]  # epochs trained in this process, counted by EpochCounter


class EpochCounter(Callback):
    """Counts the epochs trained in this process (the grid search's fits)."""

    def on_epoch_end(self, net, **kwargs):
        EPOCHS_RUN[0] += 1


def load_bank(rows=None):
    frame = pd.read_csv(DATA / "bank-full.csv.gz", sep=";")
    if rows is not None and rows < len(frame):
        frame = frame.sample(n=rows, random_state=0)
    y = (frame.pop("y") == "yes").astype(int).to_numpy()
    X = frame.drop(columns="duration")
    return X, y


def bank_pipeline(X, epochs, callbacks=None):
    categorical = list(X.select_dtypes(exclude="number").columns)
    numeric = [c for c in X.columns if c not in categorical]
    return make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), categorical),
            (StandardScaler(), numeric),
        ),
        DeepMLPClassifier(
            batch_size=256,
            max_epochs=epochs,
            device="cpu",
            random_state=0,
            callbacks=callbacks,
        ),
    )


GRID = {
    "deepmlpclassifier__learning_rate": [3e-4, 1e-3, 3e-3],
    "deepmlpclassifier__hidden_layer_sizes": [(64,), (128, 64)],
    "deepmlpclassifier__dropout": [0.0, 0.3],
}
SPACE = {
    "deepmlpclassifier__learning_rate": FloatDistribution(3e-4, 3e-3, log=True),
    "deepmlpclassifier__hidden_layer_sizes": [(64,), (128, 64)],
    "deepmlpclassifier__dropout": FloatDistribution(0.0, 0.3),
}
CV = StratifiedKFold(3, shuffle=True, random_state=0)
PRUNERS = {
    # Median: stop a trial below the median of the earlier trials at the same epoch.
    "median": lambda: optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=3),
    # Successive halving (ASHA): at epochs 2, 6, 18 keep the best third.
    "halving": lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=2, reduction_factor=3),
}


def part_grid(X, y, epochs, seed, pruners):
    print(
        f"\n### GridSearchCV (12 points) vs OptunaSearchCV (TPE + median pruning, 12 trials)"
        f"\n\n{len(X)} rows, {epochs} epochs per fit at most, 3-fold ROC AUC.\n"
    )
    print("| search | best CV ROC AUC | seconds | epochs trained | trials pruned |")
    print("|---|---:|---:|---:|---:|")
    EPOCHS_RUN[0] = 0
    grid = GridSearchCV(
        bank_pipeline(X, epochs, callbacks=[EpochCounter()]),
        GRID,
        scoring="roc_auc",
        cv=CV,
        refit=False,
    )
    start = time.perf_counter()
    grid.fit(X, y)
    grid_seconds = time.perf_counter() - start
    grid_best = float(np.max(grid.cv_results_["mean_test_score"]))
    print(
        f"| GridSearchCV | {grid_best:.4f} | {grid_seconds:.0f} | {EPOCHS_RUN[0]} | - |",
        flush=True,
    )

    for name in pruners:
        pruner = PRUNERS[name]()
        search = OptunaSearchCV(
            bank_pipeline(X, epochs),
            SPACE,
            n_trials=12,
            sampler=optuna.samplers.TPESampler(n_startup_trials=5, seed=seed),
            pruner=pruner,
            scoring="roc_auc",
            cv=CV,
            refit=False,
        )
        start = time.perf_counter()
        search.fit(X, y)
        seconds = time.perf_counter() - start
        results = search.cv_results_
        pruned = int(np.sum(results["state"] == "PRUNED"))
        print(
            f"| OptunaSearchCV, TPE + {type(pruner).__name__} (seed {seed}) | "
            f"{search.best_score_:.4f} | {seconds:.0f} | {int(np.sum(results['n_epochs']))} | "
            f"{pruned} of 12 |",
            flush=True,
        )
        print(
            f"\nDifference in best AUC: {search.best_score_ - grid_best:+.4f}; time ratio "
            f"(Optuna / grid): {seconds / grid_seconds:.2f}. Best trial: {search.best_params_}\n"
        )
    print("Best grid point:", grid.best_params_)


def part_workers(X, y, epochs, trials):
    print(
        f"\n### Trials per minute: 1 vs 2 worker processes on a journal file\n\n"
        f"{len(X)} rows, {trials} trials of {epochs} epochs x 3 folds, no pruner.\n"
    )
    print("| workers | trials | seconds | trials per minute |")
    print("|---:|---:|---:|---:|")
    rates = {}
    with tempfile.TemporaryDirectory() as folder:
        for n_jobs in (1, 2):
            storage = os.path.join(folder, f"workers-{n_jobs}.log")

            def run(n, name, n_jobs=n_jobs, storage=storage):
                search = OptunaSearchCV(
                    bank_pipeline(X, epochs),
                    SPACE,
                    n_trials=n,
                    scoring="roc_auc",
                    cv=CV,
                    refit=False,
                    n_jobs=n_jobs,
                    storage=storage,
                    study_name=name,
                    random_state=0,
                )
                start = time.perf_counter()
                search.fit(X, y)
                return time.perf_counter() - start

            if n_jobs > 1:
                warm = run(2, "warm-up")
                print(f"| 2 (first call: start-up + 2 trials) | 2 | {warm:.0f} | - |")
            seconds = run(trials, "timed")
            rates[n_jobs] = trials / (seconds / 60)
            print(f"| {n_jobs} | {trials} | {seconds:.0f} | {rates[n_jobs]:.2f} |")
    print(f"\nSpeed-up with 2 workers: {rates[2] / rates[1]:.2f}x.")


def part_digits(trials=30, seeds=(0, 1)):
    hidden, batch = [(32,), (128,), (256, 128)], [16, 32, 64, 128, 256]
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.2, stratify=y, random_state=0
    )
    print(f"\n### OptunaSearchCV vs RandomizedSearchCV, {trials} trials, digits\n")
    print("| search | seed | best CV accuracy | test accuracy (refit best) | seconds |")
    print("|---|---:|---:|---:|---:|")
    for seed in seeds:
        model = DeepMLPClassifier(max_epochs=30, random_state=0)
        common = dict(cv=3, scoring="accuracy", random_state=seed)
        searches = {
            "RandomizedSearchCV": RandomizedSearchCV(
                model,
                {
                    "learning_rate": loguniform(1e-4, 3e-1),
                    "alpha": loguniform(1e-6, 1e-1),
                    "dropout": uniform(0.0, 0.6),
                    "hidden_layer_sizes": hidden,
                    "batch_size": batch,
                },
                n_iter=trials,
                **common,
            ),
            "OptunaSearchCV (TPE)": OptunaSearchCV(
                model,
                {
                    "learning_rate": FloatDistribution(1e-4, 3e-1, log=True),
                    "alpha": FloatDistribution(1e-6, 1e-1, log=True),
                    "dropout": FloatDistribution(0.0, 0.6),
                    "hidden_layer_sizes": hidden,
                    "batch_size": batch,
                },
                n_trials=trials,
                **common,
            ),
        }
        for name, search in searches.items():
            start = time.perf_counter()
            search.fit(X_train, y_train)
            seconds = time.perf_counter() - start
            best = float(np.nanmax(search.cv_results_["mean_test_score"]))
            test = search.score(X_test, y_test)
            print(f"| {name} | {seed} | {best:.4f} | {test:.4f} | {seconds:.0f} |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", nargs="+", default=["grid", "workers"])
    parser.add_argument("--rows", type=int, default=None, help="subsample bank-full")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--worker-trials", type=int, default=8)
    parser.add_argument("--worker-epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pruners", nargs="+", default=["median"], choices=sorted(PRUNERS))
    args = parser.parse_args(argv)
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, optuna {optuna.__version__}, 1 torch thread per process."
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        torch.set_num_threads(1)
        warnings.simplefilter("ignore", ConvergenceWarning)
        if "grid" in args.part or "workers" in args.part:
            X, y = load_bank(args.rows)
        if "grid" in args.part:
            part_grid(X, y, args.epochs, args.seed, args.pruners)
        if "workers" in args.part:
            part_workers(X, y, args.worker_epochs, args.worker_trials)
        if "digits" in args.part:
            part_digits()


if __name__ == "__main__":
    main()
