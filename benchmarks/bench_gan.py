"""GANSampler against ctgan.CTGAN on Adult (issue 11), every figure from this one run.

Both learn the same ``--n-rows`` Adult training rows (income included, 15 columns) with the same
epochs and batch size, then sample as many rows. Each contender runs in a fresh process of its
own (so that its peak memory is its own), with ``--threads`` torch threads:

* ``ctgan``: ``ctgan.CTGAN`` 0.12 in its own virtualenv (it pins pandas < 3), driven by
  ``_ctgan_worker.py`` through ctgan's public API only;
* ``gan``: ``skdeep.gan.GANSampler`` with the same epochs and batch size;
* ``vae`` / ``vae_mode``: ``skdeep.vae.VAEEncoder`` (16 components, as in bench_vae.py) with
  its standardised numeric columns, and with the mode-specific normalisation of the GAN
  (``TabularEncoder(numeric_encoding="mode")``): the encoding's before/after.

Measured, in one table each (markdown, for benchmarks/RESULTS.md):

1. machine-learning efficacy: gradient boosting and logistic regression trained on each
   synthetic table (and on the real training rows), tested on real held-out rows (Adult's test
   file): F1 of ">50K" and accuracy, and the ratio to the real-data F1;
2. the similarity report (``skdeep.metrics.synthetic_data_report``) of each table against the
   real held-out rows, per column family; the real training rows give the floor;
3. fit time per epoch, preprocessing time, peak resident memory of the worker process, time to
   sample 100,000 rows and 10,000 rows under a condition (``income == ">50K"``), and the share
   of those rows that meet it.

Set up the anchor once (CPU wheels; an unpinned torch would download CUDA):

    python3 -m venv /tmp/ctgan-venv
    /tmp/ctgan-venv/bin/pip install torch==2.13.0
    /tmp/ctgan-venv/bin/pip install "ctgan==0.12.*"

Then:

    python benchmarks/bench_gan.py [--epochs 150] [--batch-size 500] [--n-rows 10000]
        [--threads 1] [--contenders ctgan,gan] [--plot PATH] [--ctgan-python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
TARGET, POSITIVE = "income", ">50K"
CONDITION = (TARGET, POSITIVE)
MISSING = "<missing>"  # how a missing category travels through CSV to ctgan and back
CTGAN_PYTHON = "/tmp/ctgan-venv/bin/python"


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def adult(n_rows, seed=0):
    """Training rows (a seeded subsample of Adult's training file) and the held-out test file."""
    from skdeep.datasets import load_adult

    train = load_adult(split="train", as_frame=True).frame
    test = load_adult(split="test", as_frame=True).frame
    if n_rows < len(train):
        train = train.sample(n_rows, random_state=seed)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def restore_dtypes(frame, like):
    """Give a table read back from CSV the dtypes (and category sets) of ``like``."""
    out = {}
    for name, dtype in like.dtypes.items():
        column = frame[name]
        if isinstance(dtype, pd.CategoricalDtype):
            column = column.astype(str).where(column.astype(str) != MISSING, None)
            out[name] = pd.Categorical(column, dtype=dtype)
        else:
            out[name] = pd.to_numeric(column).round().astype(dtype)
    return pd.DataFrame(out)


# -- workers: one fresh process per contender -----------------------------------------------


def run_ctgan(train, args, workdir, timing_only=False):
    discrete = [n for n, t in train.dtypes.items() if isinstance(t, pd.CategoricalDtype)]
    csv = train.copy()
    for name in discrete:  # ctgan gets missing categories as a category of their own
        csv[name] = csv[name].astype(object).where(csv[name].notna(), MISSING)
    train_csv, out_csv, spec = workdir / "train.csv", workdir / "ctgan.csv", workdir / "spec.json"
    csv.to_csv(train_csv, index=False)
    spec.write_text(json.dumps({"discrete_columns": discrete, "condition": list(CONDITION)}))
    command = [
        args.ctgan_python,
        str(HERE / "_ctgan_worker.py"),
        *("--train", str(train_csv), "--spec", str(spec), "--out", str(out_csv)),
        *("--epochs", str(args.epochs), "--batch-size", str(args.batch_size)),
        *("--threads", str(args.threads), "--seed", str(args.seed)),
        *(["--timing-only"] if timing_only else []),
    ]
    figures = _run_worker(command)
    if timing_only:
        return None, figures
    synthetic = pd.read_csv(out_csv, keep_default_na=False, na_values=[""])
    return restore_dtypes(synthetic, train), figures


def run_skdeep(kind, train, args, workdir, timing_only=False):
    data, out = workdir / "train.pkl", workdir / f"{kind}.pkl"
    train.to_pickle(data)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        *("--worker", kind, "--data", str(data), "--out", str(out)),
        *("--epochs", str(args.epochs), "--batch-size", str(args.batch_size)),
        *("--threads", str(args.threads), "--seed", str(args.seed)),
        *(["--timing-only"] if timing_only else []),
    ]
    figures = _run_worker(command)
    return (None if timing_only else pd.read_pickle(out)), figures


def _run_worker(command):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{command[1]} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def worker(args):
    """Fit one skdeep contender in this process; print its figures as one JSON line."""
    import torch

    torch.set_num_threads(args.threads)
    train = pd.read_pickle(args.data)
    rss_before_fit = peak_rss_mb()
    if args.worker == "gan":
        from skdeep.gan import GANSampler

        model = GANSampler(
            max_epochs=args.epochs, batch_size=args.batch_size, random_state=args.seed
        )
    else:
        import skdeep.vae
        from skdeep.vae import VAEEncoder

        if args.worker == "vae_mode":
            # VAEEncoder has no parameter for it yet: give it the mode-encoding adapter.
            import functools

            from skdeep.preprocessing import TabularEncoder

            skdeep.vae.TabularEncoder = functools.partial(
                TabularEncoder, numeric_encoding="mode", random_state=args.seed
            )
        # bench_vae.py's Adult settings.
        model = VAEEncoder(
            n_components=16,
            hidden_layer_sizes=(256, 128),
            batch_size=256,
            max_epochs=100,
            early_stopping=True,
            n_iter_no_change=8,
            random_state=args.seed,
        )
    # Warm-up on a few rows: one-time costs (first kernel calls) are not the fit's.
    warm = type(model)(**{**model.get_params(), "max_epochs": 1}).fit(train.head(500))
    del warm
    start = time.perf_counter()
    model.fit(train)
    fit_s = time.perf_counter() - start
    epochs = [record["dur"] for record in model.history_]
    figures = {
        "fit_s": fit_s,
        "per_epoch_s": float(np.mean(epochs)),
        "preprocess_s": fit_s - float(np.sum(epochs)),
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_fit_mb": rss_before_fit,
        "epochs_run": len(epochs),
    }
    if args.timing_only:
        print(json.dumps(figures))
        return
    model.sample(len(train), random_state=args.seed).to_pickle(args.out)
    start = time.perf_counter()
    model.sample(100_000, random_state=args.seed + 1)
    figures["sample_s"] = time.perf_counter() - start
    if args.worker == "gan":
        start = time.perf_counter()
        rows, draws = model.sample(
            10_000, conditions={TARGET: POSITIVE}, random_state=args.seed + 2, return_n_draws=True
        )
        figures["conditional_s"] = time.perf_counter() - start
        figures["conditional_share"] = float((rows[TARGET] == POSITIVE).mean())
        figures["conditional_draws"] = int(draws)
        history = pd.DataFrame(model.history_)
        figures["final_losses"] = history.iloc[-1][
            ["generator_loss", "discriminator_loss"]
        ].tolist()
    print(json.dumps(figures))


# -- evaluation -------------------------------------------------------------------------------


def efficacy_models():
    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    boosting = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    columns = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_include="category")),
        (StandardScaler(), make_column_selector(dtype_include="number")),
    )
    logistic = make_pipeline(columns, LogisticRegression(max_iter=2000))
    return {"gradient boosting": boosting, "logistic regression": logistic}


def efficacy(tables, test):
    from sklearn.metrics import f1_score, make_scorer

    from skdeep.metrics import tstr_score

    scoring = {"f1": make_scorer(f1_score, pos_label=POSITIVE), "accuracy": "accuracy"}
    rows = {}
    for label, table in tables.items():
        row = {}
        for model_name, model in efficacy_models().items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                score = tstr_score(model, table, test, TARGET, scoring=scoring)
            row[(model_name, "f1")] = score.loc["synthetic", "f1"]
            row[(model_name, "accuracy")] = score.loc["synthetic", "accuracy"]
        rows[label] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def print_efficacy(scores):
    real = scores.loc["real (train rows)"]
    print("\n### Machine-learning efficacy (trained on the table, tested on real held-out rows)\n")
    print(
        "| trained on | GB F1 | GB F1 / real | GB accuracy | LR F1 | LR F1 / real | LR accuracy |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, row in scores.iterrows():
        gb, lr = row["gradient boosting"], row["logistic regression"]
        print(
            f"| {label} | {gb['f1']:.4f} | {gb['f1'] / real[('gradient boosting', 'f1')]:.3f}x"
            f" | {gb['accuracy']:.4f} | {lr['f1']:.4f}"
            f" | {lr['f1'] / real[('logistic regression', 'f1')]:.3f}x | {lr['accuracy']:.4f} |"
        )


def print_similarity(tables, test):
    from skdeep.metrics import synthetic_data_report

    reports = {label: synthetic_data_report(test, table) for label, table in tables.items()}
    families = list(next(iter(reports.values())).index)
    print("\n### Similarity to the real held-out rows (1 - mean distance; higher is closer)\n")
    print("| table | " + " | ".join(families) + " |")
    print("|---|" + "---:|" * len(families))
    for label, report in reports.items():
        print(
            f"| {label} | "
            + " | ".join(f"{v:.4f}" for v in report["similarity"].to_numpy())
            + " |"
        )
    return reports


def print_costs(figures):
    anchor = figures.get("ctgan", {}).get("per_epoch_s")
    print("\n### Fit and sampling cost\n")
    print(
        "| contender | preprocessing (s) | s / epoch | / ctgan | peak RSS (MB) | "
        "sample 100k (s) | 10k under condition (s) | share meeting it | rows drawn |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, f in figures.items():
        ratio = f"{f['per_epoch_s'] / anchor:.2f}x" if anchor else ""
        conditional = f.get("conditional_s")
        print(
            f"| {label} | {f['preprocess_s']:.2f} | {f['per_epoch_s']:.3f} | {ratio} | "
            f"{f['peak_rss_mb']:.0f} | {f['sample_s']:.2f} | "
            f"{'' if conditional is None else f'{conditional:.2f}'} | "
            f"{f.get('conditional_share', float('nan')):.3f} | "
            f"{f.get('conditional_draws', f.get('conditional_rows', ''))} |"
        )


def timing(train, args):
    """Alternate short fits of both, so that both see the same load on a shared machine."""
    per_epoch = {"ctgan": [], "gan": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.timing_rounds):
            _, figures = run_ctgan(train, args, Path(tmp), timing_only=True)
            per_epoch["ctgan"].append(figures["per_epoch_s"])
            _, figures = run_skdeep("gan", train, args, Path(tmp), timing_only=True)
            per_epoch["gan"].append(figures["per_epoch_s"])
    ctgan, gan = np.median(per_epoch["ctgan"]), np.median(per_epoch["gan"])
    print(
        f"\n### Time per epoch, {args.timing_rounds} alternating rounds of {args.epochs} epochs\n"
    )
    print("| contender | s / epoch (each round) | median | / ctgan |")
    print("|---|---|---:|---:|")
    for label, values, median in (
        ("ctgan.CTGAN", per_epoch["ctgan"], ctgan),
        ("skdeep GANSampler", per_epoch["gan"], gan),
    ):
        rounds = ", ".join(f"{v:.3f}" for v in values)
        print(f"| {label} | {rounds} | {median:.3f} | {median / ctgan:.2f}x |")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--n-rows", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--contenders", default="ctgan,gan")
    parser.add_argument("--ctgan-python", default=CTGAN_PYTHON)
    parser.add_argument("--plot", default=None, help="save the marginal plots here (PNG)")
    parser.add_argument(
        "--timing-rounds",
        type=int,
        default=0,
        help="instead of the full run: time --epochs epochs of ctgan and GANSampler this many "
        "times, alternating, and print the median time per epoch of each",
    )
    parser.add_argument("--timing-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=("gan", "vae", "vae_mode"), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    import sklearn
    import torch

    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
        f"(shared with other jobs), Python {platform.python_version()}, torch "
        f"{torch.__version__}, scikit-learn {sklearn.__version__}, pandas {pd.__version__}; "
        f"{args.threads} torch thread(s)."
    )
    print(
        f"Adult: {args.n_rows} training rows (seed {args.seed}), tested on the 16,281 rows of "
        f"the test file; {args.epochs} epochs, batch {args.batch_size}."
    )
    train, test = adult(args.n_rows, args.seed)
    if args.timing_rounds:
        return timing(train, args)
    tables, figures = {"real (train rows)": train}, {}
    names = {
        "ctgan": "ctgan.CTGAN",
        "gan": "skdeep GANSampler",
        "vae": "skdeep VAEEncoder (standardised)",
        "vae_mode": "skdeep VAEEncoder (mode-encoded)",
    }
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.contenders.split(","):
            label = names[kind]
            start = time.perf_counter()
            if kind == "ctgan":
                tables[label], figures[label] = run_ctgan(train, args, Path(tmp))
            else:
                tables[label], figures[label] = run_skdeep(kind, train, args, Path(tmp))
            print(f"  {label}: done in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    print_efficacy(efficacy(tables, test))
    print_similarity(tables, test)
    print_costs({("ctgan" if k == "ctgan.CTGAN" else k): v for k, v in figures.items()})
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from skdeep.metrics import plot_marginals

        for label, table in tables.items():
            if label.startswith("real"):
                continue
            path = Path(args.plot)
            slug = re.sub(r"\W+", "_", label).strip("_").lower()
            path = path.with_name(f"{path.stem}_{slug}{path.suffix}")
            plot_marginals(test, table, labels=("real (test)", label)).savefig(path, dpi=80)
            print(f"marginal plots: {path}", file=sys.stderr)
    return None


if __name__ == "__main__":
    main()
