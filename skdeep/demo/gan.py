"""Tour step: GANSampler on the Adult census table: synthetic rows, conditions, usefulness."""

from __future__ import annotations

import time
import warnings

import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import f1_score, make_scorer

from skdeep.datasets import load_adult
from skdeep.gan import GANSampler
from skdeep.metrics import synthetic_data_report, tstr_score

TARGET, POSITIVE = "income", ">50K"


def gan_step(verbose=1, n_rows=5000, max_epochs=10):
    """GANSampler on Adult rows (a short budget), then what its rows are worth."""
    train = load_adult(split="train", as_frame=True).frame.sample(n_rows, random_state=0)
    test = load_adult(split="test", as_frame=True).frame
    print(
        f"Adult census: a GAN learns {n_rows:,} rows of the mixed table (income included) "
        f"for {max_epochs} epochs, then samples new people.",
        flush=True,
    )
    gan = GANSampler(max_epochs=max_epochs, random_state=0, verbose=verbose)
    start = time.perf_counter()
    gan.fit(train)
    fit_s = time.perf_counter() - start
    rows = gan.sample(n_rows, random_state=0)

    print("\n  Three synthetic people with income >50K (conditions are always met):")
    rich = gan.sample(3, conditions={TARGET: POSITIVE}, random_state=1)
    with pd.option_context("display.width", 120, "display.max_columns", 8):
        print(rich.iloc[:, :8].to_string(index=False))

    report = synthetic_data_report(test, rows)
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    scoring = {"f1": make_scorer(f1_score, pos_label=POSITIVE)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tstr = tstr_score(model, rows, test, TARGET, real_train=train, scoring=scoring)
    results = {
        "fit_s": fit_s,
        "similarity": float(report.loc["overall", "similarity"]),
        "f1_ratio": float(tstr.loc["synthetic / real", "f1"]),
    }
    print(
        f"\n  Fit: {fit_s:.1f} s. Similarity of {n_rows:,} synthetic rows to the real test rows "
        f"(skdeep.metrics.synthetic_data_report): {results['similarity']:.3f} (1 = identical)."
        f"\n  Gradient boosting trained on synthetic rows, tested on real ones: F1 "
        f"{tstr.loc['synthetic', 'f1']:.3f}, {results['f1_ratio']:.2f}x the F1 of the same "
        f"model trained on the real rows ({tstr.loc['real', 'f1']:.3f})."
    )
    return results
