"""Do the MLP family's defaults beat the classic baselines? (issue 13)

Every skdeep model here is built with its defaults, except where a row says otherwise;
every baseline is scikit-learn's. Sections:

``select``
    Chooses the defaults: stratified 5-fold cross-validation on the *training* part of
    each data set only, for a few candidate settings (each written out in full, so the
    table keeps its meaning when the defaults move). Classifiers: Adult and bank marketing
    (mixed DataFrames straight in), accuracy. Regressors: diabetes and Friedman #1, R^2.
``task``
    The issue-3 task (bench_mlp.py's 50k x 100 rows, 4 classes):
    ``DeepMLPClassifier(hidden_layer_sizes=(256, 256), max_epochs=10)`` against
    ``MLPClassifier`` with the same architecture and epochs, everything else their
    defaults, test accuracy per seed.
``tables``
    Adult and bank marketing, held-out test split: ``DeepMLPClassifier()`` on the raw
    DataFrame and after OneHotEncoder + StandardScaler, against LogisticRegression
    (same features), MLPClassifier() and HistGradientBoostingClassifier; accuracy, ROC AUC
    and fit time, the old defaults beside the new.
``regression``
    ``DeepMLPRegressor()`` against ``Ridge()`` on diabetes and Friedman #1, 5-fold CV R^2,
    the old defaults beside the new.

Data: Adult is bundled (``skdeep.datasets.load_adult``); bank marketing is read from
``../shared/data/bank_marketing`` (UCI, CC BY 4.0; never bundled), without its
``duration`` column, which is only known after the call it should predict.

    python benchmarks/bench_defaults.py [--sections select task tables regression]
                                        [--seeds 0 1 2] [--threads 1]

Prints markdown tables; paste them into benchmarks/RESULTS.md with the machine line.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_diabetes, make_classification, make_friedman1
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from skdeep import DeepMLPClassifier, DeepMLPRegressor
from skdeep.datasets import load_adult

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
SECTIONS = ("select", "task", "tables", "regression")
# Tables: the 12,000-row sample of Adult (and as many rows of bank marketing), 75/25.
TABLE_ROWS = 12_000

# The defaults before issue 13, written out so that the rows keep their meaning.
OLD = dict(early_stopping=False, dropout=0.0, alpha=1e-4, n_iter_no_change=10, batch_size=200)
# Candidates for the new defaults (each a full setting of the parameters in play).
CANDIDATES = {
    "old defaults (200 epochs, no early stopping)": OLD,
    "early stopping": dict(OLD, early_stopping="auto"),
    "early stopping, dropout 0.1": dict(OLD, early_stopping="auto", dropout=0.1),
    "early stopping, dropout 0.2": dict(OLD, early_stopping="auto", dropout=0.2),
    "early stopping, alpha 1e-3": dict(OLD, early_stopping="auto", alpha=1e-3),
    "early stopping, alpha 1e-2": dict(OLD, early_stopping="auto", alpha=1e-2),
    "early stopping, dropout 0.1, alpha 1e-3": dict(
        OLD, early_stopping="auto", dropout=0.1, alpha=1e-3
    ),
    "early stopping, alpha 1e-2, batch 32": dict(
        OLD, early_stopping="auto", alpha=1e-2, batch_size=32
    ),
}


# --- data -------------------------------------------------------------------------------


def adult():
    frame = load_adult(split="train", as_frame=True).frame
    y = (frame.pop("income").astype(str).str.strip() == ">50K").astype(int).to_numpy()
    return frame, y


def bank():
    frame = pd.read_csv(DATA_DIR / "bank_marketing" / "bank-full.csv.gz", sep=";")
    y = (frame.pop("y") == "yes").astype(int).to_numpy()
    frame = frame.drop(columns="duration")
    for column in frame.columns[~frame.dtypes.map(pd.api.types.is_numeric_dtype)]:
        frame[column] = frame[column].astype("category")
    return frame, y


def table_split(load, seed=0):
    """The issue's protocol: a stratified sample of TABLE_ROWS rows, split 75/25."""
    X, y = load()
    X, _, y, _ = train_test_split(X, y, train_size=TABLE_ROWS, stratify=y, random_state=0)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)


def one_hot_scaled(X):
    """OneHotEncoder on the categorical columns, StandardScaler on the numeric ones."""
    categorical = X.columns[~X.dtypes.map(pd.api.types.is_numeric_dtype)]
    numeric = X.columns.difference(categorical, sort=False)
    return make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), list(categorical)),
        (StandardScaler(), list(numeric)),
    )


def regression_sets():
    X, y = load_diabetes(return_X_y=True)
    Xf, yf = make_friedman1(n_samples=1_000, noise=1.0, random_state=0)
    return {"diabetes (442 rows)": (X, y), "Friedman #1 (1,000 rows)": (Xf, yf)}


# --- sections ---------------------------------------------------------------------------


def cv_scores(model, X, y, cv, scoring=None):
    return list(cross_val_score(model, X, y, cv=cv, scoring=scoring))


def cv_mean(model, X, y, cv, scoring=None):
    return float(np.mean(cv_scores(model, X, y, cv, scoring)))


def section_select(seeds):
    print(
        "\n### Choosing the defaults: 5-fold CV on training data only, mean ± std over "
        f"folds x seeds {seeds}\n"
    )
    tables = {"Adult": table_split(adult), "bank marketing": table_split(bank)}
    regressions = regression_sets()
    print(
        "| candidate | Adult accuracy | bank accuracy | diabetes R^2 | Friedman #1 R^2 |"
        "\n|---|---:|---:|---:|---:|"
    )

    def folds(data_kind, seed):
        kind = StratifiedKFold if data_kind == "table" else KFold
        return kind(5, shuffle=True, random_state=seed)

    def row(name, make_classifier, make_regressor):
        cells = []
        for X_train, _, y_train, _ in tables.values():
            scores = [
                score
                for s in seeds
                for score in cv_scores(
                    make_classifier(X_train, s), X_train, y_train, folds("table", s)
                )
            ]
            cells.append(_mean_spread(scores))
        for X, y in regressions.values():
            scores = [
                score
                for s in seeds
                for score in cv_scores(
                    make_pipeline(StandardScaler(), make_regressor(s)),
                    X,
                    y,
                    folds("regression", s),
                )
            ]
            cells.append(_mean_spread(scores))
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)

    row(
        "baselines: LogisticRegression (one-hot + scaled) / Ridge()",
        lambda X, s: make_pipeline(one_hot_scaled(X), LogisticRegression(max_iter=2000)),
        lambda s: Ridge(),
    )
    for name, params in CANDIDATES.items():
        row(
            name,
            lambda X, s, params=params: DeepMLPClassifier(**params, random_state=s),
            lambda s, params=params: DeepMLPRegressor(**params, random_state=s),
        )


def section_task(seeds):
    print("\n### The issue-3 task: (256, 256), 10 epochs, everything else the defaults\n")
    X, y = make_classification(
        n_samples=60_000, n_features=100, n_informative=30, n_classes=4, random_state=0
    )
    scaler = StandardScaler().fit(X[:50_000])
    X_train, X_test = scaler.transform(X[:50_000]), scaler.transform(X[50_000:])
    y_train, y_test = y[:50_000], y[50_000:]
    rows = {
        "`MLPClassifier(hidden_layer_sizes=(256, 256), max_iter=10)`": lambda s: MLPClassifier(
            hidden_layer_sizes=(256, 256), max_iter=10, random_state=s
        ),
        "`DeepMLPClassifier(hidden_layer_sizes=(256, 256), max_epochs=10)`": lambda s: (
            DeepMLPClassifier(hidden_layer_sizes=(256, 256), max_epochs=10, random_state=s)
        ),
        "... with the old defaults": lambda s: DeepMLPClassifier(
            hidden_layer_sizes=(256, 256), max_epochs=10, random_state=s, **OLD
        ),
    }
    print("| model | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | fit (s, median) |")
    print("|---|" + "---:|" * (len(seeds) + 2))
    for name, make in rows.items():
        accuracy, seconds = [], []
        for seed in seeds:
            start = time.perf_counter()
            model = make(seed).fit(X_train, y_train)
            seconds.append(time.perf_counter() - start)
            accuracy.append(model.score(X_test, y_test))
        cells = " | ".join(f"{a:.4f}" for a in accuracy)
        print(
            f"| {name} | {cells} | **{np.mean(accuracy):.4f}** | "
            f"{statistics.median(seconds):.1f} |",
            flush=True,
        )


def section_tables(seeds, tables=("Adult", "bank marketing")):
    for label, load in (("Adult", adult), ("bank marketing", bank)):
        if label not in tables:
            continue
        print(
            f"\n### {label}: {TABLE_ROWS:,}-row stratified sample, 75/25 split per seed, "
            "test accuracy / ROC AUC\n"
        )
        print("| model | accuracy | ROC AUC | fit (s, median) |\n|---|---:|---:|---:|")
        rows = {
            "LogisticRegression (one-hot + scaled)": lambda X, s: make_pipeline(
                one_hot_scaled(X), LogisticRegression(max_iter=2000)
            ),
            "MLPClassifier() (one-hot + scaled)": lambda X, s: make_pipeline(
                one_hot_scaled(X), MLPClassifier(random_state=s)
            ),
            "HistGradientBoostingClassifier (categories native)": lambda X, s: (
                HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=s)
            ),
            "**DeepMLPClassifier()**, the DataFrame as it is": lambda X, s: DeepMLPClassifier(
                random_state=s
            ),
            "DeepMLPClassifier() (one-hot + scaled)": lambda X, s: make_pipeline(
                one_hot_scaled(X), DeepMLPClassifier(random_state=s)
            ),
            "DeepMLPClassifier, old defaults, the DataFrame as it is": lambda X, s: (
                DeepMLPClassifier(random_state=s, **OLD)
            ),
        }
        splits = [table_split(load, seed) for seed in seeds]
        for name, make in rows.items():
            accuracy, auc, seconds = [], [], []
            for seed, (X_train, X_test, y_train, y_test) in zip(seeds, splits, strict=True):
                start = time.perf_counter()
                model = make(X_train, seed).fit(X_train, y_train)
                seconds.append(time.perf_counter() - start)
                accuracy.append(model.score(X_test, y_test))
                auc.append(roc_auc_score(y_test, model.predict_proba(X_test)[:, 1]))
            print(
                f"| {name} | {_mean_spread(accuracy)} | {_mean_spread(auc)} | "
                f"{statistics.median(seconds):.1f} |",
                flush=True,
            )


def section_regression(seeds):
    print("\n### Regression: 5-fold CV R^2 (shuffled per seed), StandardScaler on X only\n")
    print("| model | data | R^2 | fit + score of 5 folds (s, median) |\n|---|---|---:|---:|")
    rows = {
        "Ridge()": lambda s: Ridge(),
        "**DeepMLPRegressor()**": lambda s: DeepMLPRegressor(random_state=s),
        "DeepMLPRegressor, old defaults (normalize_y=True)": lambda s: DeepMLPRegressor(
            random_state=s, **OLD
        ),
        "DeepMLPRegressor, before issue 13 (normalize_y=False)": lambda s: DeepMLPRegressor(
            random_state=s, normalize_y=False, **OLD
        ),
    }
    for data, (X, y) in regression_sets().items():
        for name, make in rows.items():
            scores, seconds = [], []
            for seed in seeds:
                start = time.perf_counter()
                scores.append(
                    cv_mean(
                        make_pipeline(StandardScaler(), make(seed)),
                        X,
                        y,
                        KFold(5, shuffle=True, random_state=seed),
                    )
                )
                seconds.append(time.perf_counter() - start)
            print(
                f"| {name} | {data} | {_mean_spread(scores)} | {statistics.median(seconds):.1f} |",
                flush=True,
            )


def _mean_spread(values):
    """``mean ± std`` over seeds (population std, 0 for one seed)."""
    return f"{np.mean(values):.4f} ± {np.std(values):.4f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--select-seeds", nargs="+", type=int, default=[0], help="seeds of the select section"
    )
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {args.threads} thread(s) for torch and BLAS, CPU; "
        f"seeds {args.seeds}."
    )
    sections = {
        "select": section_select,
        "task": section_task,
        "tables": section_tables,
        "regression": section_regression,
    }
    with threadpool_limits(limits=args.threads), warnings.catch_warnings():
        torch.set_num_threads(args.threads)
        warnings.simplefilter("ignore", ConvergenceWarning)  # the old defaults' fixed budget
        for name in args.sections:
            sections[name](args.select_seeds if name == "select" else args.seeds)


if __name__ == "__main__":
    main()
