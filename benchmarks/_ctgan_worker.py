"""Fit ctgan.CTGAN on a CSV table and sample from it: the anchor of bench_gan.py.

Runs in ctgan's own virtualenv (ctgan 0.12 pins pandas < 3, skdeep needs pandas >= 3 here), so it
imports nothing from skdeep and uses only ctgan's public API: ``CTGAN(...)``, ``fit(data,
discrete_columns)``, ``sample(n)``, ``sample(n, condition_column=..., condition_value=...)``
and ``set_random_state``. bench_gan.py starts it with that virtualenv's python; it prints one
JSON line of figures and writes the sampled rows as CSV.

    /tmp/ctgan-venv/bin/python benchmarks/_ctgan_worker.py --train train.csv --spec spec.json \
        --out synthetic.csv --epochs 150 --batch-size 500 --threads 1
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import pandas as pd
import torch
from ctgan import CTGAN

MISSING = "<missing>"  # missing categories travel as this string (a category of their own)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def fit(train, discrete, epochs, batch_size, seed):
    model = CTGAN(epochs=epochs, batch_size=batch_size, verbose=False, enable_gpu=False)
    model.set_random_state(seed)
    start = time.perf_counter()
    model.fit(train, discrete)
    return model, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", required=True)
    parser.add_argument("--spec", required=True, help="JSON: discrete columns, condition")
    parser.add_argument("--out", required=True)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-samples", type=int, default=None)
    parser.add_argument("--n-speed", type=int, default=100_000)
    parser.add_argument("--n-conditional", type=int, default=10_000)
    parser.add_argument("--timing-only", action="store_true", help="fit only, print timings")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.spec) as f:
        spec = json.load(f)
    discrete = spec["discrete_columns"]
    train = pd.read_csv(args.train, keep_default_na=False, na_values=[""])
    for name in discrete:
        train[name] = train[name].astype(str)
    rss_before_fit = peak_rss_mb()

    # A first fit on a few rows pays the one-time costs (lazy imports, first kernel calls),
    # which would otherwise be charged to whichever fit comes first.
    fit(train.head(500), discrete, 1, args.batch_size, args.seed)
    # The time of one epoch is the difference of two fits, E epochs and 1 epoch: what is left
    # of the 1-epoch fit is preprocessing (the mode-specific normalisation, sampler set-up).
    _, one_epoch_s = fit(train, discrete, 1, args.batch_size, args.seed)
    model, fit_s = fit(train, discrete, args.epochs, args.batch_size, args.seed)
    per_epoch_s = (fit_s - one_epoch_s) / max(args.epochs - 1, 1)
    rss_after_fit = peak_rss_mb()

    if args.timing_only:
        print(json.dumps({"fit_s": fit_s, "per_epoch_s": per_epoch_s}))
        return
    n = args.n_samples or len(train)
    synthetic = model.sample(n)
    synthetic.to_csv(args.out, index=False)

    start = time.perf_counter()
    model.sample(args.n_speed)
    sample_s = time.perf_counter() - start

    column, value = spec["condition"]
    start = time.perf_counter()
    conditional = model.sample(args.n_conditional, condition_column=column, condition_value=value)
    conditional_s = time.perf_counter() - start
    share = float((conditional[column].astype(str) == str(value)).mean())

    print(
        json.dumps(
            {
                "fit_s": fit_s,
                "per_epoch_s": per_epoch_s,
                "preprocess_s": one_epoch_s - per_epoch_s,
                "peak_rss_mb": rss_after_fit,
                "rss_before_fit_mb": rss_before_fit,
                "sample_s": sample_s,
                "conditional_s": conditional_s,
                "conditional_share": share,
                "conditional_rows": len(conditional),
            }
        )
    )


if __name__ == "__main__":
    main()
